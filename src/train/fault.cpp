#include "train/fault.hpp"

#include <algorithm>
#include <csignal>
#include <iterator>
#include <cstdlib>
#include <thread>

#include "dptrain/error.hpp"
#include "util/split.hpp"

namespace dptrain {

std::optional<FaultPlan> FaultPlan::from_environment() {
  const char* spec = std::getenv("DPTRAIN_FAULT");
  if (!spec || !*spec) return std::nullopt;
  FaultPlan plan;
  for (const std::string& item : split_list(spec)) {
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "rank") plan.rank = std::atoi(value.c_str());
    else if (key == "step") plan.step = value == "load" ? kDuringLoad : std::atoll(value.c_str());
    else if (key == "kind") plan.kind = value;
    else throw ConfigError("DPTRAIN_FAULT: unknown key '" + key + "'");
  }
  static const char* const kinds[] = {"throw",   "nan",     "nan-gradient", "stall", "kill",
                                      "sigterm", "sigusr1", "sigint",       "sigint2"};
  if (plan.rank < 0 || (plan.step < 0 && plan.step != kDuringLoad) ||
      std::find(std::begin(kinds), std::end(kinds), plan.kind) == std::end(kinds))
    throw ConfigError(std::string("DPTRAIN_FAULT='") + spec +
                      "': expected rank=R,step=S|load,"
                      "kind=throw|nan|nan-gradient|stall|kill|sigterm|sigusr1|sigint|sigint2");
  return plan;
}

FaultPlan::Poison FaultPlan::fire(int r, std::int64_t s) const {
  if (r != rank || s != step) return Poison::none;
  if (kind == "throw")
    throw DataError("injected fault (DPTRAIN_FAULT) on rank " + std::to_string(r) + " at step " +
                    std::to_string(s));
  if (kind == "stall")
    while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
  if (kind == "kill") std::raise(SIGKILL);
  if (kind == "sigterm") std::raise(SIGTERM);
  if (kind == "sigusr1") std::raise(SIGUSR1);
  if (kind == "sigint") std::raise(SIGINT);
  if (kind == "sigint2") std::raise(SIGINT), std::raise(SIGINT);
  return kind == "nan" ? Poison::batch : kind == "nan-gradient" ? Poison::gradient : Poison::none;
}

}  // namespace dptrain
