// jitscope_fake_jit: a stand-in JIT for tests and the demo. Registers a few
// fake symbol files through the C API (jitscope/jit_debug_api.h), prints one
// readiness line, then waits for SIGTERM/SIGINT, stdin EOF (with --stdin) or
// its timeout, so a forgotten instance never lingers.
//
//   jitscope_fake_jit [--entries N] [--unregister K] [--churn] [--timeout-ms MS]
//
// --unregister K drops the K oldest entries again (exercising the free list);
// --churn keeps registering/unregistering one extra entry until told to stop.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "jitscope/jit_debug.h"
#include "jitscope/jit_debug_api.h"

namespace {

volatile sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

// Looks like an ELF file to anyone peeking, carries a readable name.
std::vector<char> MakeFakeSymfile(int index) {
  std::string text = "\x7f" "ELF fake symfile #" + std::to_string(index);
  std::vector<char> bytes(text.begin(), text.end());
  bytes.resize(64 + 16 * index, '\0');
  return bytes;
}

long ArgValue(int argc, char** argv, int* i) {
  if (*i + 1 >= argc) {
    std::fprintf(stderr, "jitscope_fake_jit: %s needs a value\n", argv[*i]);
    std::exit(2);
  }
  return std::strtol(argv[++*i], nullptr, 10);
}

}  // namespace

int main(int argc, char** argv) {
  long entries = 3;
  long unregister = 0;
  long timeout_ms = 60'000;
  bool churn = false;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--entries") == 0) {
      entries = ArgValue(argc, argv, &i);
    } else if (std::strcmp(argv[i], "--unregister") == 0) {
      unregister = ArgValue(argc, argv, &i);
    } else if (std::strcmp(argv[i], "--timeout-ms") == 0) {
      timeout_ms = ArgValue(argc, argv, &i);
    } else if (std::strcmp(argv[i], "--churn") == 0) {
      churn = true;
    } else {
      std::fprintf(stderr, "jitscope_fake_jit: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  // Let any process inspect us even where Yama restricts ptrace to
  // ancestors (the reader is a sibling, not our parent).
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);

  std::vector<std::vector<char>> symfiles;
  std::vector<jit_debug_handle*> handles;
  for (long i = 0; i < entries; i++) symfiles.push_back(MakeFakeSymfile(static_cast<int>(i)));
  for (auto& symfile : symfiles) handles.push_back(jit_debug_register(symfile.data(), symfile.size()));
  for (long i = 0; i < unregister && i < entries; i++) jit_debug_unregister(handles[i]);

  std::printf("ready pid=%d descriptor=%p entries=%ld\n", static_cast<int>(getpid()),
              static_cast<void*>(&__jit_debug_descriptor), entries - std::min(unregister, entries));
  std::fflush(stdout);

  std::vector<char> extra = MakeFakeSymfile(1000);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!g_stop && std::chrono::steady_clock::now() < deadline) {
    if (churn) {
      jit_debug_handle* handle = jit_debug_register(extra.data(), extra.size());
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      jit_debug_unregister(handle);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return 0;
}
