#include "config_file.hpp"

#include <cerrno>

#include <filesystem>
#include <fstream>

#include "io/atomic_file.hpp"
#include "dptrain/error.hpp"

namespace dptrain::cli {
namespace {

// CLI11 2.1's TOML reader takes an unterminated string as text up to the line's end (so
// `data = "a.h5` names the file `"a.h5`), and a folder as an empty file; refuse both here.
void check_readable_toml(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError("--config " + path + ": is a folder; expected a TOML file");
  std::ifstream in(path);
  if (!in) throw ConfigError("--config " + path + ": cannot open it: " + errno_text(errno));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto eq = line.find('=');
    const auto first = line.find_first_not_of(" \t");
    if (eq == std::string::npos || first == std::string::npos || line[first] == '#') continue;
    const auto start = line.find_first_not_of(" \t", eq + 1);
    if (start == std::string::npos) continue;
    const char quote = line[start];
    if (quote != '"' && quote != '\'') continue;
    bool closed = false;
    for (std::size_t i = start + 1; i < line.size() && !closed; ++i) {
      if (quote == '"' && line[i] == '\\') ++i;  // an escaped character
      else closed = line[i] == quote;
    }
    if (!closed || line.compare(start, 3, std::string(3, quote)) == 0)
      throw ConfigError("--config " + path + " line " + std::to_string(number) +
                        ": unterminated string (multi-line strings are not supported): " + line);
  }
}

}  // namespace

void apply_config_file(CLI::App& cmd, const std::string& path, const std::set<std::string>& list_keys) {
  check_readable_toml(path);
  CLI::ConfigTOML format;
  std::vector<CLI::ConfigItem> items;
  try {
    items = format.from_file(path);
  } catch (const CLI::Error& e) {
    throw ConfigError("--config " + path + ": cannot read it as TOML (" + e.what() + ")");
  }
  for (CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--" || !item.parents.empty())
      throw ConfigError("--config " + path + ": sections ([" +
                        (item.parents.empty() ? item.name : item.parents.front()) +
                        "]) are not used; write the keys at the top level");
    CLI::Option* option = cmd.get_option_no_throw("--" + item.name);
    if (option == nullptr || !option->get_configurable())
      throw ConfigError("--config " + path + ": unknown key '" + item.name +
                        "'; keys are the long option names of 'dptrain " + cmd.get_name() +
                        "' without dashes (see --print-config)");
    if (option->count() > 0) continue;  // the command line wins
    if (item.inputs.size() > 1 && option->get_items_expected_max() == 1) {
      // data = ["a.h5", "b.h5"] means the list a.h5,b.h5, not the last element.
      if (!list_keys.count(item.name))
        throw ConfigError("--config " + path + ": key '" + item.name + "' takes one value; got " +
                          std::to_string(item.inputs.size()) + " (an array or a list)");
      std::string joined;
      for (const auto& input : item.inputs) joined += (joined.empty() ? "" : ",") + input;
      item.inputs = {joined};
    }
    try {
      if (option->get_expected_min() == 0)  // a flag: true/false/1/0
        option->add_result(option->get_flag_value(item.name, format.to_flag(item)));
      else
        option->add_result(item.inputs);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw ConfigError("--config " + path + ": key '" + item.name + "': " + e.what());
    }
  }
}

}  // namespace dptrain::cli
