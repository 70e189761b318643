#include "dptrain/run_layout.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <set>
#include <sstream>

#include "dptrain/error.hpp"
#include "dptrain/log.hpp"
#include "util/split.hpp"

namespace dptrain {
namespace {

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  for (const std::string& part : split_list(text)) {
    if (part.empty()) continue;
    const auto dash = part.find('-');
    const int lo = std::stoi(part.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  return cpus;
}

// 8, 83.3, 250: rows per step are whole numbers on average only when the split is even.
std::string approx(double v) {
  std::ostringstream s;
  s.precision(v < 1000 ? 3 : 6);
  s << v;
  return s.str();
}

}  // namespace

RankPlacement describe_this_rank(int rank, int threads, ShardRange shard) {
  RankPlacement p;
  p.rank = rank;
  p.host = host_name();
  p.cpus = affinity_cpus();
  p.host_cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  p.threads = threads;
  p.shard = shard;
  return p;
}

std::string encode_placement(const RankPlacement& p) {
  std::ostringstream s;
  s << p.rank << '\n' << p.host << '\n' << format_cpu_list(p.cpus) << '\n' << p.host_cpus << '\n'
    << p.threads << '\n' << p.shard.begin << '\n' << p.shard.end << '\n';
  return s.str();
}

RankPlacement decode_placement(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> f;
  for (std::string line; std::getline(in, line);) f.push_back(line);
  if (f.size() != 7) throw Error("run layout: malformed placement record '" + text + "'");
  RankPlacement p;
  p.rank = std::stoi(f[0]);
  p.host = f[1];
  p.cpus = parse_cpu_list(f[2]);
  p.host_cpus = std::stoi(f[3]);
  p.threads = std::stoi(f[4]);
  p.shard.begin = std::stoll(f[5]);
  p.shard.end = std::stoll(f[6]);
  return p;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::vector<int> sorted = cpus;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::ostringstream s;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (i > 0) s << ',';
    s << sorted[i];
    if (j > i) s << '-' << sorted[j];
    i = j + 1;
  }
  return s.str();
}

RunLayout gather_run_layout(Communicator& comm, const RankPlacement& mine, std::int64_t rows,
                            std::int64_t global_batch) {
  RunLayout layout;
  layout.rows = rows;
  layout.global_batch = global_batch;
  for (const std::string& record : comm.allgather(encode_placement(mine)))
    layout.ranks.push_back(decode_placement(record));
  return layout;
}

std::vector<std::string> format_run_layout(const RunLayout& layout) {
  std::set<std::string> hosts;
  std::set<int> thread_counts;
  for (const auto& r : layout.ranks) {
    hosts.insert(r.host);
    thread_counts.insert(r.threads);
  }
  std::string threads;
  for (int t : thread_counts) {
    if (!threads.empty()) threads += '/';
    threads += std::to_string(t);
  }
  // Each step's global batch is split over ranks by who owns the sampled rows, so a rank's
  // share is the batch times its fraction of the rows (on average; it varies step to step).
  const double per_rank = layout.ranks.empty() || layout.rows == 0
                              ? 0.0
                              : static_cast<double>(layout.global_batch) /
                                    static_cast<double>(layout.ranks.size());
  std::vector<std::string> lines;
  lines.push_back("run layout: " + std::to_string(layout.ranks.size()) + " rank(s) on " +
                  std::to_string(hosts.size()) + " host(s), " + threads +
                  " thread(s) per rank, global batch " + std::to_string(layout.global_batch) +
                  ", local batch ~" + approx(per_rank) + " rows per rank and step");
  for (const auto& r : layout.ranks) {
    const double local =
        layout.rows > 0 ? static_cast<double>(layout.global_batch) * static_cast<double>(r.shard.size()) /
                              static_cast<double>(layout.rows)
                        : 0.0;
    std::ostringstream s;
    s << "  rank " << r.rank << ": host " << r.host << ", cpus " << format_cpu_list(r.cpus) << " ("
      << r.cpus.size() << " of " << r.host_cpus << "), " << r.threads << " thread(s), ";
    if (layout.dealt_blocks)
      s << "~" << r.shard.size() << " rows in blocks dealt by position";
    else
      s << "shard rows [" << r.shard.begin << ", " << r.shard.end << ") (" << r.shard.size() << ")";
    s << ", local batch ~" << approx(local);
    lines.push_back(s.str());
  }
  return lines;
}

std::vector<std::string> run_layout_warnings(const RunLayout& layout) {
  std::vector<std::string> warnings;
  struct HostUse {
    int ranks = 0, threads = 0, host_cpus = 0;
    std::set<int> cpus;
  };
  std::map<std::string, HostUse> hosts;
  for (const auto& r : layout.ranks) {
    auto& h = hosts[r.host];
    ++h.ranks;
    h.threads += r.threads;
    h.host_cpus = std::max(h.host_cpus, r.host_cpus);
    h.cpus.insert(r.cpus.begin(), r.cpus.end());
  }
  for (const auto& [name, h] : hosts) {
    const int available = h.cpus.empty() ? h.host_cpus : static_cast<int>(h.cpus.size());
    if (h.threads > available)
      warnings.push_back("host " + name + " is oversubscribed: " + std::to_string(h.ranks) +
                         " rank(s) start " + std::to_string(h.threads) + " thread(s) in total on " +
                         std::to_string(available) +
                         " available CPU(s); steps will be slower than with fewer ranks or "
                         "threads (ranks x threads should not exceed the cores)");
  }
  for (const auto& r : layout.ranks) {
    const int bound = static_cast<int>(r.cpus.size());
    if (bound > 0 && r.threads > bound)
      warnings.push_back("rank " + std::to_string(r.rank) + " starts " + std::to_string(r.threads) +
                         " threads but is bound to " + std::to_string(bound) + " CPU(s) (" +
                         format_cpu_list(r.cpus) +
                         "): its threads share them; with mpirun use --bind-to none or "
                         "--map-by slot:PE=" + std::to_string(r.threads) +
                         ", with srun set --cpus-per-task=" + std::to_string(r.threads));
  }
  return warnings;
}

void report_run_layout(Communicator& comm, const RunLayoutInputs& inputs) {
  const RankPlacement mine = describe_this_rank(comm.rank(), inputs.threads, inputs.shard);
  log_debug("rank " + std::to_string(mine.rank) + " on " + mine.host + ", cpus " +
            format_cpu_list(mine.cpus) + ", " + std::to_string(mine.threads) +
            " thread(s), shard rows [" + std::to_string(mine.shard.begin) + ", " +
            std::to_string(mine.shard.end) + ")");
  RunLayout layout = gather_run_layout(comm, mine, inputs.rows, inputs.global_batch);
  layout.dealt_blocks = inputs.dealt_blocks;
  if (comm.rank() != 0) return;
  for (const auto& line : format_run_layout(layout)) log_info(line);
  for (const auto& warning : run_layout_warnings(layout)) log_warn(warning);
}

}  // namespace dptrain
