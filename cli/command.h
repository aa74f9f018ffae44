// The subcommand registry and the small option parser every cmd_<name>.cc
// uses. Each subcommand file defines one Command and registers it with
// JITSCOPE_REGISTER_COMMAND; main.cc dispatches.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace jitscope::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed
inline constexpr int kExitUsage = 2;    // bad command line

struct OptionSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value = false;
};

class ParsedArgs {
 public:
  std::vector<std::string> positionals;
  std::set<std::string> flags;
  std::map<std::string, std::string> values;

  bool Has(std::string_view name) const {
    return flags.count(std::string(name)) != 0 || values.count(std::string(name)) != 0;
  }
  std::optional<std::string> Value(std::string_view name) const;
};

struct Command {
  std::string_view name;
  std::string_view summary;  // one line for `jitscope --help`
  std::string_view usage;    // full text for `jitscope help NAME`
  std::vector<OptionSpec> options;
  size_t min_positionals = 0;
  size_t max_positionals = 0;
  int (*run)(const ParsedArgs& args) = nullptr;
};

// Sorted by name.
const std::vector<const Command*>& AllCommands();
const Command* FindCommand(std::string_view name);

struct CommandRegistrar {
  explicit CommandRegistrar(const Command& command);
};

#define JITSCOPE_REGISTER_COMMAND(command) \
  static const ::jitscope::cli::CommandRegistrar command##_registrar { command }

// Parses args (after the subcommand name). On a usage error prints it with
// a pointer to `jitscope help NAME` and returns nullopt; sets *help_shown
// (and prints usage) for -h/--help.
std::optional<ParsedArgs> ParseCommandLine(const Command& command, const std::vector<std::string>& args,
                                           bool* help_shown);

int UsageError(const Command& command, const std::string& message);

// A hex address, with or without 0x; nullopt unless the whole text is one.
std::optional<uint64_t> ParseHexAddress(std::string_view text);

// Strictly positive decimal pid; nullopt otherwise.
std::optional<int> ParsePid(std::string_view text);

}  // namespace jitscope::cli
