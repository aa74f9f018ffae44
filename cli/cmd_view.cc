#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include "command.h"
#include "debuginfo/process_maps.h"
#include "jit_process.h"
#include "perf_integration/perf_samples.h"
#include "unwinder/process_info.h"
#include "unwinder/tombstone.h"
#include "viewer/recorded_code.h"
#include "viewer/view_model.h"
#include "viewer/view_server.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope view (PID | SNAPSHOT | TOMBSTONE | RECORDING_DIR) [--port N] [--html FILE]\n"
    "\n"
    "A web UI over a target's JIT code: the address-space code map (one block\n"
    "per function, to scale), a sortable, filterable function table, each\n"
    "function's disassembly with its Lua source lines (and, for a recording,\n"
    "perf samples per instruction), the debug-info memory by layout, the\n"
    "register/unregister timeline and, for a tombstone, the backtraces with\n"
    "each JIT frame linked to its disassembly.\n"
    "\n"
    "Serves http://127.0.0.1:PORT/ (loopback only) until Ctrl-C. For a live\n"
    "PID the page follows the process as it compiles and frees code, and\n"
    "keeps showing the last state once it exits. The JSON API the page uses\n"
    "is described in docs/viewer.md.\n"
    "\n"
    "Options:\n"
    "  --port N     listen on port N (default 0: any free port)\n"
    "  --html FILE  write one self-contained HTML file (data inlined) that\n"
    "               opens with no server, instead of serving\n"
    "\n"
    "Exit status: 0 on success (Ctrl-C while serving), 1 if the target cannot\n"
    "be read or the port cannot be bound, 2 on a bad command line.\n";

// Often enough that a function compiled while the page is open shows up
// within a poll of the page (1 s); a poll without change is one small read.
constexpr auto kLivePollInterval = std::chrono::milliseconds(100);

std::atomic<bool> g_stop{false};

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::map<std::string, SourceBlob> DecodeBlobs(const JitSnapshot& snap) {
  std::map<std::string, SourceBlob> out;
  for (const DescriptorView& d : snap.descriptors)
    for (const SnapshotEntry& e : d.entries) {
      if (!e.symfile) continue;
      SourceBlob blob;
      std::string error;
      if (DecodeSourceBlob(e.symfile->data(), e.symfile->size(), &blob, &error)) out[blob.chunk_name] = std::move(blob);
    }
  return out;
}

bool StartsWith(const std::string& path, std::string_view magic) {
  std::ifstream in(path, std::ios::binary);
  std::string head(magic.size(), '\0');
  return in.read(head.data(), static_cast<std::streamsize>(head.size())) && head == magic;
}

// Serves until Ctrl-C, calling `tick` every kLivePollInterval (live mode).
int Serve(const ViewModel& model, int port, const std::function<void()>& tick) {
  // A browser closing a connection mid-response must not kill the server
  // (cpp-httplib sends with MSG_NOSIGNAL; this covers anything else).
  signal(SIGPIPE, SIG_IGN);
  // Ctrl-C (or SIGTERM) ends serving cleanly, with status 0, in every mode.
  struct sigaction sa = {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  ViewServer server(model);
  Result<int> bound = server.Start(port);
  if (!bound) {
    std::cerr << "jitscope view: " << bound.error() << "\n";
    return kExitFailure;
  }
  std::cout << "jitscope view: serving http://" << ViewServer::kHost << ":" << *bound << "/" << std::endl;
  while (!g_stop) {
    std::this_thread::sleep_for(kLivePollInterval);
    if (tick) tick();
  }
  server.Stop();
  return kExitOk;
}

int Finish(const ViewModel& model, const ParsedArgs& args, const std::function<void()>& tick) {
  if (std::optional<std::string> html = args.Value("html")) {
    Result<bool> written = WriteOfflineViewHtml(model.OfflineDocument(), *html);
    if (!written) {
      std::cerr << "jitscope view: " << written.error() << "\n";
      return kExitFailure;
    }
    std::cout << "jitscope view: wrote " << *html << std::endl;
    return kExitOk;
  }
  int port = 0;
  if (std::optional<std::string> v = args.Value("port")) {
    char* end = nullptr;
    long n = strtol(v->c_str(), &end, 10);
    if (v->empty() || *end || n < 0 || n > 65535) return UsageError(*FindCommand("view"), "--port takes 0..65535");
    port = static_cast<int>(n);
  }
  return Serve(model, port, tick);
}

ViewCrash CrashOf(const Tombstone& t, Symbolizer& symbolizer) {
  ViewCrash c;
  c.signal = t.signal;
  c.signal_name = SignalName(t.signal);
  c.code_name = SignalCodeName(t.signal, t.si_code);
  c.fault_address = t.fault_address;
  c.cmdline = t.cmdline;
  c.minimal = t.minimal;
  for (const TombstoneThread& th : t.threads) {
    ViewThread vt;
    vt.tid = th.tid;
    vt.name = th.name;
    vt.crashed = th.crashed;
    vt.error = th.error;
    for (const SymbolizedFrame& f : SymbolizeFrames(th.frames, symbolizer, t.maps))
      vt.frames.push_back(ViewFrame{f.pc, f.jit, f.module, f.function, f.offset, f.source, f.skipped});
    if (vt.crashed) c.threads.insert(c.threads.begin(), std::move(vt));
    else c.threads.push_back(std::move(vt));
  }
  return c;
}

int RunTombstone(const ParsedArgs& args, const std::string& path) {
  Result<Tombstone> loaded = ReadTombstone(path);
  if (!loaded) {
    std::cerr << "jitscope view: " << loaded.error() << "\n";
    return kExitFailure;
  }
  Tombstone& t = *loaded;
  TombstoneFileResolver resolver(t, "");
  Symbolizer symbolizer;
  AddTombstoneSymbols(t, &resolver, &symbolizer);
  std::unique_ptr<SnapshotMemory> space = TombstoneAddressSpace(t);
  JitSnapshot empty;
  ViewData data;
  data.mode = "tombstone";
  data.source = path;
  data.pid = t.pid;
  data.comm = t.comm;
  data.maps = t.maps;
  data.jit = t.snapshot ? &t.snapshot->jit : &empty;
  if (t.snapshot) data.sources = DecodeBlobs(t.snapshot->sources);
  data.code = space.get();
  data.crash = CrashOf(t, symbolizer);
  if (t.minimal) data.note = "minimal tombstone: " + t.minimal_reason;
  ViewModel model;
  model.Update(data, NowNs());
  return Finish(model, args, nullptr);
}

int RunRecording(const ParsedArgs& args, const std::string& dir) {
  Result<RecordedCode> code = ReadRecordedCode(dir);
  if (!code) {
    std::cerr << "jitscope view: " << code.error() << "\n";
    return kExitFailure;
  }
  std::vector<perf::Sample> samples;
  std::string error, file;
  if (!perf::ReadRecording(dir, &samples, &error, &file)) {
    std::cerr << "jitscope view: " << error << "\n";
    return kExitFailure;
  }
  ViewData data;
  data.mode = "recording";
  data.source = dir;
  data.jit = &code->jit;
  data.code = code->code.get();
  data.native_symbols = false;  // no maps: the recording does not keep them
  data.layout_override = "jitdump";
  for (const perf::Sample& s : samples) {
    if (!s.frames.empty()) data.samples[s.frames.front().ip]++;
    if (data.pid == 0) data.pid = s.pid, data.comm = s.comm;
  }
  data.total_samples = samples.size();
  // A recording holds no source text; the files its line tables name are
  // usually still there when the recording is viewed where it was made.
  size_t sources_read = 0;
  for (const DescriptorView& d : code->jit.descriptors)
    for (const SnapshotEntry& e : d.entries)
      for (const std::string& f : e.info->files) {
        if (data.sources.count(f)) continue;
        std::ifstream in(f, std::ios::binary);
        std::string text;
        if (!in || !std::getline(in, text, '\0') || text.size() > kMaxSourceBlobSize) continue;
        data.sources[f] = SourceBlob{f, std::move(text), {}};
        sources_read++;
      }
  data.note = std::to_string(samples.size()) + " samples in " + file + "; code from " + std::to_string(code->dumps) +
              " jitdump file(s), " + std::to_string(code->loads) + " loads" +
              (code->replaced ? " (" + std::to_string(code->replaced) + " replaced by later code at their address)" : "");
  if (sources_read) data.note += "; source text from " + std::to_string(sources_read) + " file(s) on this machine";
  if (code->loads == 0) data.note += "; no jit-*.dump with code loads: JIT functions cannot be shown";
  ViewModel model;
  model.Update(data, NowNs());
  return Finish(model, args, nullptr);
}

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("view");
  const std::string& what = args.positionals[0];
  struct stat st;
  if (!ParsePid(what) && stat(what.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return RunRecording(args, what);
    if (StartsWith(what, kTombstoneMagic)) return RunTombstone(args, what);
  }
  std::optional<Result<Target>> opened = OpenTargetArgument(what, "view");
  if (!opened)
    return UsageError(*self, "'" + what + "' is not a process id, a snapshot, a tombstone or a recording directory");
  Result<Target>& target = *opened;
  if (!target) {
    std::cerr << "jitscope view: " << target.error() << "\n";
    return kExitFailure;
  }
  bool live = !target->offline;
  auto data_of = [&](Target& t) {
    ViewData data;
    data.mode = live ? "live" : "snapshot";
    data.source = what;
    data.pid = t.pid;
    data.comm = t.comm;
    data.maps = t.maps;
    data.jit = &t.jit();
    data.sources = t.SourceBlobs();
    data.code = &t.code_memory();
    data.symbol_pid = live ? t.pid : 0;
    if (!t.synchronized()) data.note = "unsynchronized copy (plain GDB descriptor)";
    return data;
  };
  ViewModel model;
  model.Update(data_of(*target), NowNs());

  std::function<void()> tick;
  if (live && !args.Has("html")) {
    tick = [&model, &target, &data_of, exited = false]() mutable {
      if (exited) return;
      pid_t pid = target->pid;
      Result<bool> changed = target->snapshotter->Poll();
      if (!changed || ProcessExited(pid)) {
        if (ProcessExited(pid)) {
          exited = true;
          model.MarkExited(NowNs());
        } else {
          model.SetProblem(changed ? "" : changed.error());
        }
        return;
      }
      if (!*changed) return;
      // New code may sit in a new mapping; the source descriptor changes
      // with every chunk loaded.
      if (Result<std::vector<MapEntry>> maps = ReadProcessMaps(pid)) target->maps = std::move(*maps);
      if (target->sources) (void)target->sources->Poll();
      model.Update(data_of(*target), NowNs());
    };
  }
  return Finish(model, args, tick);
}

const Command kViewCommand{
    .name = "view",
    .summary = "Web UI: code map, functions, disassembly, memory, timeline, backtraces",
    .usage = kUsage,
    .options = {{.name = "port", .takes_value = true}, {.name = "html", .takes_value = true}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kViewCommand);

}  // namespace
}  // namespace jitscope::cli
