#include <iostream>

#include "command.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope version\n"
    "\n"
    "Prints the jitscope version (also: jitscope --version).\n";

int Run(const ParsedArgs&) {
  std::cout << "jitscope " << JITSCOPE_VERSION << "\n";
  return kExitOk;
}

const Command kVersionCommand{
    .name = "version",
    .summary = "Print the jitscope version",
    .usage = kUsage,
    .options = {},
    .min_positionals = 0,
    .max_positionals = 0,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kVersionCommand);

}  // namespace
}  // namespace jitscope::cli
