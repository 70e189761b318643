#include "config_file.hpp"

#include "dptrain/error.hpp"

namespace dptrain::cli {

void apply_config_file(CLI::App& cmd, const std::string& path) {
  CLI::ConfigTOML format;
  std::vector<CLI::ConfigItem> items;
  try {
    items = format.from_file(path);
  } catch (const CLI::Error& e) {
    throw ConfigError("--config " + path + ": cannot read it as TOML (" + e.what() + ")");
  }
  for (const CLI::ConfigItem& item : items) {
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
