// ViewModel and the offline page on hand-made snapshots, no processes:
// functions listed once, the timeline's register/unregister diff, code kept
// after the target's memory is gone, sample heat, and names from a hostile
// target that cannot break out of the page's inlined data.
#include "viewer/view_model.h"

#include <gtest/gtest.h>

#include "viewer/view_server.h"

namespace jitscope {
namespace {

// Every 0x40 bytes (one test function): push rbp; mov rbp, rsp; nop; nop;
// pop rbp; ret; then int3 padding.
std::vector<uint8_t> Code(size_t size) {
  const std::vector<uint8_t> fn = {0x55, 0x48, 0x89, 0xe5, 0x90, 0x90, 0x5d, 0xc3};
  std::vector<uint8_t> c(size, 0xcc);
  for (size_t i = 0; i < size; i++)
    if (i % 0x40 < fn.size()) c[i] = fn[i % 0x40];
  return c;
}

SnapshotEntry Entry(uint64_t entry, uint64_t timestamp, std::vector<SymfileFunction> fns, SymfileKind kind) {
  SnapshotEntry e;
  e.entry_address = entry;
  e.timestamp = timestamp;
  e.seqlock = 2;
  e.symfile_size = 100 * fns.size();
  auto info = std::make_shared<SymfileInfo>();
  info->kind = kind;
  info->functions = std::move(fns);
  e.info = std::move(info);
  return e;
}

SymfileFunction Fn(uint64_t address, uint64_t size, std::string name) {
  SymfileFunction f;
  f.address = address;
  f.size = size;
  f.name = std::move(name);
  f.tier = 1;
  return f;
}

ViewData Data(const JitSnapshot& snap, Memory* code) {
  ViewData d;
  d.mode = "snapshot";
  d.source = "test";
  d.jit = &snap;
  d.code = code;
  d.native_symbols = false;
  return d;
}

JitSnapshot Snapshot(std::vector<SnapshotEntry> entries, uint64_t taken) {
  JitSnapshot s;
  s.taken_ns = taken;
  DescriptorView v;
  v.entries = std::move(entries);
  s.descriptors.push_back(std::move(v));
  return s;
}

TEST(ViewModel, ListsFunctionsOnceAndDiffsEntries) {
  std::vector<uint8_t> bytes = Code(0x100);
  BufferMemory memory(0x1000, bytes);
  // a and b were registered alone, then packed together (newest first).
  JitSnapshot first = Snapshot({Entry(0x30, 300, {Fn(0x1000, 0x40, "a@t.lua:1"), Fn(0x1040, 0x40, "b@t.lua:5")},
                                      SymfileKind::kPacked),
                                Entry(0x20, 200, {Fn(0x1040, 0x40, "b@t.lua:5")}, SymfileKind::kSingle),
                                Entry(0x10, 100, {Fn(0x1000, 0x40, "a@t.lua:1")}, SymfileKind::kSingle)},
                               1000);
  ViewModel model;
  model.Update(Data(first, &memory), 1000);
  nlohmann::json s = nlohmann::json::parse(model.StateJson());
  ASSERT_EQ(s["functions"].size(), 2u) << s.dump(2);
  EXPECT_EQ(s["functions"][0]["name"], "a@t.lua:1");
  EXPECT_EQ(s["functions"][0]["layout"], "packed");
  EXPECT_EQ(s["functions"][0]["entry"], "0x30");
  EXPECT_EQ(s["events"].size(), 3u);
  EXPECT_EQ(s["events"][0]["time_ns"], 100);
  EXPECT_EQ(s["mappings"].size(), 1u);
  EXPECT_TRUE(s["mappings"][0]["synthetic"].get<bool>());
  EXPECT_EQ(s["mappings"][0]["functions"].size(), 2u);

  Result<nlohmann::json> d = model.Disassembly(0x1042);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ((*d)["function"], "b@t.lua:5");
  EXPECT_EQ((*d)["instructions"][0]["mnemonic"], "push");
  EXPECT_FALSE(model.Disassembly(0x2000));

  // The singles are unregistered; the target's memory is gone, and the
  // copied code still disassembles.
  uint64_t gen = model.generation();
  JitSnapshot second = Snapshot({first.descriptors[0].entries[0]}, 2000);
  model.Update(Data(second, nullptr), 2000);
  EXPECT_GT(model.generation(), gen);
  s = nlohmann::json::parse(model.StateJson());
  int unregistered = 0;
  for (const nlohmann::json& e : s["events"]) unregistered += e["action"] == "unregister";
  EXPECT_EQ(unregistered, 2);
  EXPECT_EQ(s["events"].back()["time_ns"], 2000);
  EXPECT_EQ(s["memory"].size(), 2u);
  EXPECT_TRUE(model.Disassembly(0x1000));

  model.MarkExited(3000);
  s = nlohmann::json::parse(model.StateJson());
  EXPECT_TRUE(s["exited"].get<bool>());
  EXPECT_EQ(s["functions"].size(), 2u);
}

TEST(ViewModel, SamplesBecomeInstructionHeat) {
  std::vector<uint8_t> bytes = Code(0x40);
  BufferMemory memory(0x1000, bytes);
  JitSnapshot snap = Snapshot({Entry(0x10, 100, {Fn(0x1000, 0x40, "hot@t.lua:1")}, SymfileKind::kSingle)}, 1);
  ViewData data = Data(snap, &memory);
  data.mode = "recording";
  data.samples = {{0x1000, 3}, {0x1002, 4}, {0x1004, 5}, {0x2000, 9}};  // 0x1002 is inside "mov rbp, rsp"
  data.total_samples = 21;
  ViewModel model;
  model.Update(data, 1);
  nlohmann::json s = nlohmann::json::parse(model.StateJson());
  EXPECT_EQ(s["functions"][0]["samples"], 12);
  Result<nlohmann::json> d = model.Disassembly(0x1000);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["instructions"][0]["samples"], 3);
  EXPECT_EQ((*d)["instructions"][1]["samples"], 4);
  EXPECT_EQ((*d)["instructions"][2]["samples"], 5);
}

TEST(ViewModel, HostileNamesStayInsideTheInlinedData) {
  std::vector<uint8_t> bytes = Code(0x40);
  BufferMemory memory(0x1000, bytes);
  const std::string evil = "</script><script>alert(1)</script><!--x";
  JitSnapshot snap = Snapshot({Entry(0x10, 100, {Fn(0x1000, 0x40, evil)}, SymfileKind::kSingle)}, 1);
  ViewModel model;
  model.Update(Data(snap, &memory), 1);
  nlohmann::json doc = model.OfflineDocument();
  std::string html = OfflineViewHtml(doc);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_EQ(html.find("<!--x"), std::string::npos);
  // The data element parses back to the same document.
  const std::string open = "<script id=\"jitscope-data\" type=\"application/json\">";
  size_t a = html.find(open);
  ASSERT_NE(a, std::string::npos);
  a += open.size();
  size_t b = html.find("</script>", a);
  nlohmann::json back = nlohmann::json::parse(html.substr(a, b - a), nullptr, false);
  ASSERT_FALSE(back.is_discarded());
  EXPECT_EQ(back, doc);
  EXPECT_EQ(back["state"]["functions"][0]["name"], evil);
  // The served page has no data: it fetches the API.
  EXPECT_NE(ViewPageHtml().find("/*JITSCOPE_OFFLINE_DATA*/"), std::string::npos);
}

}  // namespace
}  // namespace jitscope
