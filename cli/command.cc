#include "command.h"

#include <algorithm>
#include <charconv>
#include <iostream>

namespace jitscope::cli {
namespace {

std::vector<const Command*>& Registry() {
  // Function-local so registration from other files' static initialisers
  // never sees it unconstructed.
  static std::vector<const Command*> commands;
  return commands;
}

const OptionSpec* FindOption(const Command& command, std::string_view name) {
  for (const OptionSpec& option : command.options) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> ParsedArgs::Value(std::string_view name) const {
  auto it = values.find(std::string(name));
  if (it == values.end()) return std::nullopt;
  return it->second;
}

CommandRegistrar::CommandRegistrar(const Command& command) {
  auto& commands = Registry();
  commands.push_back(&command);
  std::sort(commands.begin(), commands.end(), [](const Command* a, const Command* b) { return a->name < b->name; });
}

const std::vector<const Command*>& AllCommands() { return Registry(); }

const Command* FindCommand(std::string_view name) {
  for (const Command* command : Registry()) {
    if (command->name == name) return command;
  }
  return nullptr;
}

int UsageError(const Command& command, const std::string& message) {
  std::cerr << "jitscope " << command.name << ": " << message << "\n"
            << "Run 'jitscope help " << command.name << "' for usage.\n";
  return kExitUsage;
}

std::optional<ParsedArgs> ParseCommandLine(const Command& command, const std::vector<std::string>& args,
                                           bool* help_shown) {
  *help_shown = false;
  ParsedArgs parsed;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      std::cout << command.usage;
      *help_shown = true;
      return std::nullopt;
    }
    // Single-letter options (-o FILE) are spelled as one-letter long names.
    bool short_option = arg.size() == 2 && arg[1] != '-' && FindOption(command, arg.substr(1)) != nullptr;
    if (arg.rfind("--", 0) != 0 && !short_option) {
      UsageError(command, "unknown option '" + arg + "'");
      return std::nullopt;
    }
    std::string name = arg.substr(short_option ? 1 : 2);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const OptionSpec* option = FindOption(command, name);
    if (option == nullptr) {
      UsageError(command, "unknown option '--" + name + "'");
      return std::nullopt;
    }
    if (!option->takes_value) {
      if (inline_value) {
        UsageError(command, "option '--" + name + "' takes no value");
        return std::nullopt;
      }
      parsed.flags.insert(name);
    } else if (inline_value) {
      parsed.values[name] = *inline_value;
    } else if (i + 1 < args.size()) {
      parsed.values[name] = args[++i];
    } else {
      UsageError(command, "option '--" + name + "' needs a value");
      return std::nullopt;
    }
  }
  if (parsed.positionals.size() < command.min_positionals) {
    UsageError(command, "missing argument");
    return std::nullopt;
  }
  if (parsed.positionals.size() > command.max_positionals) {
    UsageError(command, "unexpected argument '" + parsed.positionals[command.max_positionals] + "'");
    return std::nullopt;
  }
  return parsed;
}

std::optional<int> ParsePid(std::string_view text) {
  int pid = 0;
  auto result = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace jitscope::cli

namespace jitscope::cli {

std::optional<uint64_t> ParseHexAddress(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  uint64_t value = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace jitscope::cli
