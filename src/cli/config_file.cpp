#include "config_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/atomic_file.hpp"
#include "dptrain/error.hpp"

// TOML is read by toml++ (a complete TOML 1.0 parser: arrays, 1_024, dates, multi-line
// strings); CLI11's own reader refused underscores and mis-read unterminated strings.
namespace dptrain::cli {
namespace {

// A TOML value as the text an option parses: 1_024 -> "1024", 0.1 -> "0.1", true -> "true".
std::string option_text(const toml::node& value, const std::string& where) {
  if (auto v = value.as_string()) return v->get();
  if (auto v = value.as_integer()) return std::to_string(v->get());
  if (auto v = value.as_floating_point()) {
    char text[64];  // the shortest text that reads back as the same double: 0.1, not 0.1000...01
    const auto end = std::to_chars(text, text + sizeof text, v->get()).ptr;
    return std::string(text, end);
  }
  if (auto v = value.as_boolean()) return v->get() ? "true" : "false";
  throw ConfigError(where + ": expected a string, number or boolean (arrays only for lists of files)");
}

}  // namespace

void apply_config_file(CLI::App& cmd, const std::string& path, const std::set<std::string>& list_keys) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError("--config " + path + ": is a folder; expected a TOML file");
  if (!std::ifstream(path)) throw ConfigError("--config " + path + ": cannot open it: " + errno_text(errno));
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    throw ConfigError("--config " + path + ": not valid TOML at " + where.str() + ": " +
                      std::string(e.description()));
  }
  for (const auto& [toml_key, value] : table) {
    std::string name(toml_key.str());
    if (value.is_table())
      throw ConfigError("--config " + path + ": sections ([" + name + "]) are not used; write the keys at the top level");
    // snake_case keys (batch_size style) name the same options as kebab-case ones.
    std::replace(name.begin(), name.end(), '_', '-');
    CLI::Option* option = cmd.get_option_no_throw("--" + name);
    if (option == nullptr || !option->get_configurable())
      throw ConfigError("--config " + path + ": unknown key '" + name +
                        "'; keys are the long option names of 'dptrain " + cmd.get_name() +
                        "' without dashes (see --print-config)");
    if (option->count() > 0) continue;  // the command line wins
    const std::string where = "--config " + path + ": key '" + name + "'";
    std::string text;
    if (const toml::array* items = value.as_array()) {
      // data = ["a.h5", "b.h5"] means the list a.h5,b.h5.
      if (!list_keys.count(name))
        throw ConfigError(where + " takes one value; got " + std::to_string(items->size()) + " (an array)");
      for (const toml::node& item : *items) text += (text.empty() ? "" : ",") + option_text(item, where);
    } else {
      text = option_text(value, where);
    }
    try {
      if (option->get_expected_min() == 0)  // a flag: true/false/1/0
        option->add_result(option->get_flag_value(name, text));
      else
        option->add_result(text);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw ConfigError(where + ": " + e.what());
    }
  }
}

}  // namespace dptrain::cli
