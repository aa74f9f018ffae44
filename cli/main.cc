// jitscope: inspects JIT code in running processes. Subcommands live in
// cmd_<name>.cc and register themselves; this file only dispatches.
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "command.h"

namespace jitscope::cli {
namespace {

void PrintOverview(std::ostream& out) {
  out << "Usage: jitscope <command> [options] [arguments]\n"
         "\n"
         "Inspects JIT-compiled code in running processes through the GDB JIT\n"
         "interface (__jit_debug_descriptor).\n"
         "\n"
         "Commands:\n";
  out << "  " << std::left << std::setw(12) << "help" << "Show the usage of a command\n";
  for (const Command* command : AllCommands()) {
    out << "  " << std::left << std::setw(12) << command->name << command->summary << "\n";
  }
  out << "\nRun 'jitscope help <command>' for the options of one command.\n";
}

int Help(const std::vector<std::string>& args) {
  if (args.empty()) {
    PrintOverview(std::cout);
    return kExitOk;
  }
  if (args.size() > 1) {
    std::cerr << "jitscope help: expected one command name\n";
    return kExitUsage;
  }
  if (args[0] == "help") {
    std::cout << "Usage: jitscope help [COMMAND]\n\nLists the commands, or shows the usage of COMMAND.\n";
    return kExitOk;
  }
  const Command* command = FindCommand(args[0]);
  if (command == nullptr) {
    std::cerr << "jitscope help: unknown command '" << args[0] << "'\nRun 'jitscope --help' for the list.\n";
    return kExitUsage;
  }
  std::cout << command->usage;
  return kExitOk;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintOverview(std::cerr);
    return kExitUsage;
  }
  std::string name = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (name == "-h" || name == "--help") return Help({});
  if (name == "help") return Help(rest);
  if (name == "--version") name = "version";
  if (name.size() > 1 && name[0] == '-') {
    std::cerr << "jitscope: unknown option '" << name << "'\nRun 'jitscope --help' for usage.\n";
    return kExitUsage;
  }
  const Command* command = FindCommand(name);
  if (command == nullptr) {
    std::cerr << "jitscope: unknown command '" << name << "'\nRun 'jitscope --help' for the list of commands.\n";
    return kExitUsage;
  }
  bool help_shown = false;
  std::optional<ParsedArgs> parsed = ParseCommandLine(*command, rest, &help_shown);
  if (!parsed) return help_shown ? kExitOk : kExitUsage;
  return command->run(*parsed);
}

}  // namespace
}  // namespace jitscope::cli

int main(int argc, char** argv) { return jitscope::cli::Main(argc, argv); }
