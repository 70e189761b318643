#pragma once
// Options from a TOML file, for a subcommand. CLI11 2.1 (Debian 12) reads a config file set
// on a subcommand only at the top level, so `dptrain train --config run.toml` would silently
// ignore the file; this applies it after parsing instead, with CLI11's own conversions.
#include <CLI/CLI.hpp>
#include <set>
#include <string>

namespace dptrain::cli {

// Gives every option of `cmd` that the command line left unset the value of its key in the
// TOML file `path` (read by toml++). Keys are the long option names without dashes (epochs = 5,
// lr-schedule = "cosine" or lr_schedule = "cosine", log-all-ranks = true). Throws ConfigError
// naming the file and key for an unreadable file or a folder, invalid TOML (with its line), an
// unknown key, a section or a value the option does not accept. An array (data = ["a.h5", "b.h5"]) for a key in
// `list_keys` becomes the comma list "a.h5,b.h5"; for any other key it is an error.
void apply_config_file(CLI::App& cmd, const std::string& path,
                       const std::set<std::string>& list_keys = {});

}  // namespace dptrain::cli
