// Registers each loaded Lua chunk (its source text and the line range of every
// function, under the names its code is compiled with) through the twin
// descriptor __jit_source_descriptor, so tools in other processes can show
// Lua source without the files.
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "debuginfo/jit_descriptor_writer.h"
#include "debuginfo/source_blob.h"
#include "vm_internal.h"

namespace jitvm {

namespace {

// Views of the Protos' own names: they outlive the registration (the blob
// holds copies of the bytes).
void collect(const Proto* p, std::vector<jitscope::SourceFunctionRef>* functions) {
  functions->push_back({p->name, static_cast<uint32_t>(p->linedefined), static_cast<uint32_t>(p->lastlinedefined)});
  for (const Proto* c : p->p) collect(c, functions);
}

}  // namespace

void register_chunk_source(State* L, Proto* main, const char* src, size_t len) {
  if (!L->g->register_sources || !main->source) return;
  const char* name = main->source->data;
  std::string chunk_name = (*name == '@' || *name == '=') ? std::string(name + 1) : chunk_id(main->source);
  // Kept by this thread (cleared, not freed): no allocation per chunk.
  thread_local std::vector<jitscope::SourceFunctionRef> functions;
  functions.clear();
  try {
    collect(main, &functions);
  } catch (const std::bad_alloc&) {
    return;  // no source for outside tools; the chunk itself still loads
  }
  // Encoded straight into the registered block: the text is copied once.
  std::string_view text(src, len);
  size_t size = jitscope::EncodedSourceBlobSize(chunk_name, text, functions.data(), functions.size());
  // From a slab pool of its own, not malloc: the VM thread runs on a
  // thread of its own, whose malloc arena grows by mprotect in small steps
  // and faults in every 4 KiB page: that was ~60% of this function's cost
  // with 10,000 chunks loaded. Not the Lua heap's pool either, and on 4 KiB
  // pages faulted in 64 KiB at a time (see Global::source_pool).
  uint8_t* blob;
  try {
    blob = static_cast<uint8_t*>(L->g->source_pool.alloc(size));
  } catch (const std::bad_alloc&) {
    return;  // no source for outside tools; the chunk itself still loads
  }
  jitscope::EncodeSourceBlobTo(chunk_name, text, functions.data(), functions.size(), blob);
  jit_code_entry* entry = jitscope::GlobalSourceDescriptorWriter().Register(blob, size);
  if (!entry) {
    L->g->source_pool.free(blob, size);
    return;
  }
  main->source_entry = entry;
  main->source_blob = blob;
  main->source_blob_size = size;
}

void unregister_chunk_source(State* L, Proto* main) {
  if (!main->source_entry) return;
  // Unlinked and invalidated first; only then may the blob's memory be reused.
  jitscope::GlobalSourceDescriptorWriter().Unregister(static_cast<jit_code_entry*>(main->source_entry));
  L->g->source_pool.free(main->source_blob, main->source_blob_size);
  main->source_entry = nullptr;
  main->source_blob = nullptr;
  main->source_blob_size = 0;
}

}  // namespace jitvm
