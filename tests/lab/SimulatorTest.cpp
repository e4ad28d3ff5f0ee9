#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "lab/Labels.hpp"
#include "lab/Simulator.hpp"
#include "lab/TimeText.hpp"

using namespace flowlier::lab;
namespace fs = std::filesystem;

namespace {

// Reads the simulator's output with plain zlib and a hand-written line splitter, so these
// tests depend on neither the project's AWS decoder nor the simulator's own types.
std::string gunzip_file(const fs::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  REQUIRE(n == 0);
  REQUIRE(gzclose(f) == Z_OK);
  return out;
}

std::vector<fs::path> log_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".gz") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= line.size()) {
    const std::size_t sp = line.find(' ', pos);
    const std::size_t end = sp == std::string_view::npos ? line.size() : sp;
    out.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::uint64_t num(std::string_view s) {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  REQUIRE(r.ec == std::errc());
  REQUIRE(r.ptr == s.data() + s.size());
  return v;
}

std::uint32_t ip(std::string_view s) {
  std::uint32_t v = 0;
  int parts = 0;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t dot = s.find('.', pos);
    if (dot == std::string_view::npos) dot = s.size();
    v = (v << 8) | static_cast<std::uint32_t>(num(s.substr(pos, dot - pos)));
    ++parts;
    pos = dot + 1;
  }
  REQUIRE(parts == 4);
  return v;
}

std::uint32_t ip(const std::string& s) { return ip(std::string_view(s)); }

struct Rec {
  std::uint32_t eni;  // index into Run::enis
  std::uint32_t src, dst;
  std::uint16_t sport, dport;
  std::uint8_t proto;
  bool reject;
  std::uint32_t packets;
  std::uint64_t bytes;
  std::int64_t start, end;
};

struct Run {
  fs::path dir;
  Labels labels;
  std::vector<std::string> enis;
  std::map<std::string, std::uint32_t, std::less<>> eni_index;
  std::vector<Rec> recs;                      // file order
  std::vector<std::string> file_names;
  std::vector<std::int64_t> file_hours;       // hour of the windows in each file
  std::vector<std::size_t> file_first;        // index of each file's first record
  std::int64_t max_disorder = 0;              // seconds a record's end lags one before it
  bool headers_ok = true;
  bool windows_ok = true;                     // start/end inside one 60 s window of the file's hour
};

const char* const v2_header =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status";

void read_run(Run& run) {
  std::string error;
  std::ifstream in(run.dir / "labels.json");
  std::stringstream text;
  text << in.rdbuf();
  auto labels = parse_labels(text.str(), error);
  REQUIRE(labels);
  run.labels = *labels;
  for (const auto& path : log_files(run.dir)) {
    const std::string name = path.filename().string();
    run.file_names.push_back(name);
    // ..._fl-0sim_YYYYMMDDTHHmmZ_hash.log.gz
    const auto stamp = name.substr(name.find("fl-0sim_") + 8, 14);
    const std::string rfc = stamp.substr(0, 4) + "-" + stamp.substr(4, 2) + "-" + stamp.substr(6, 2) + "T" +
                            stamp.substr(9, 2) + ":" + stamp.substr(11, 2) + ":00Z";
    const auto hour = parse_rfc3339(rfc);
    REQUIRE(hour);
    run.file_hours.push_back(*hour);
    run.file_first.push_back(run.recs.size());
    const std::string content = gunzip_file(path);
    std::string_view rest(content);
    bool first = true;
    std::int64_t latest_end = 0;
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      REQUIRE(nl != std::string_view::npos);
      const std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl + 1);
      if (first) {
        first = false;
        if (line != v2_header) run.headers_ok = false;
        continue;
      }
      const auto f = split(line);
      REQUIRE(f.size() == 14);
      auto [it, inserted] = run.eni_index.try_emplace(std::string(f[2]), static_cast<std::uint32_t>(run.enis.size()));
      if (inserted) run.enis.emplace_back(f[2]);
      Rec r{it->second,
            ip(f[3]),
            ip(f[4]),
            static_cast<std::uint16_t>(num(f[5])),
            static_cast<std::uint16_t>(num(f[6])),
            static_cast<std::uint8_t>(num(f[7])),
            f[12] == "REJECT",
            static_cast<std::uint32_t>(num(f[8])),
            num(f[9]),
            static_cast<std::int64_t>(num(f[10])),
            static_cast<std::int64_t>(num(f[11]))};
      REQUIRE((f[12] == "ACCEPT" || f[12] == "REJECT"));
      REQUIRE(f[0] == "2");
      REQUIRE(f[1] == "123456789012");
      REQUIRE(f[13] == "OK");
      if (r.start / 60 != r.end / 60 || r.end < r.start || r.start < *hour || r.start >= *hour + 3600) {
        run.windows_ok = false;
      }
      run.max_disorder = std::max(run.max_disorder, latest_end - r.end);
      latest_end = std::max(latest_end, r.end);
      run.recs.push_back(r);
    }
    if (first) run.headers_ok = false;
  }
}

fs::path temp_dir(const std::string& name) {
  return fs::temp_directory_path() / ("flowlier-lab-test-" + std::to_string(::getpid()) + "-" + name);
}

struct TempDirs {
  std::vector<fs::path> dirs;
  ~TempDirs() {
    std::error_code ec;
    for (const auto& d : dirs) fs::remove_all(d, ec);
  }
};
TempDirs& temp_dirs() {
  static TempDirs dirs;
  return dirs;
}

SimSummary generate(SimConfig config, const std::string& name) {
  config.out_dir = temp_dir(name);
  temp_dirs().dirs.push_back(config.out_dir);
  std::error_code ec;
  fs::remove_all(config.out_dir, ec);
  std::string error;
  auto summary = simulate(config, error);
  INFO(error);
  REQUIRE(summary);
  return *summary;
}

// The two-day, scale-1 run most tests inspect; generated and read once.
const Run& two_days() {
  static const Run run = [] {
    SimConfig config;
    config.seed = 7;
    Run r;
    generate(config, "two-days");
    r.dir = temp_dir("two-days");
    read_run(r);
    return r;
  }();
  return run;
}

std::string all_text(const fs::path& dir) {
  std::string out;
  for (const auto& p : log_files(dir)) out += p.filename().string() + "\n" + gunzip_file(p);
  return out;
}

std::string service_of(const std::string& address) { return address.rfind("10.0.3.", 0) == 0 ? "5432" : "443"; }

std::uint32_t eni_of(const Run& run, const LabelledSpan& span) {
  for (const auto& e : span.entities) {
    if (e.kind == "interface") {
      const auto it = run.eni_index.find(e.id);
      REQUIRE(it != run.eni_index.end());
      return it->second;
    }
  }
  FAIL("no interface entity");
  return 0;
}

std::uint32_t address_of(const LabelledSpan& span) {
  for (const auto& e : span.entities) {
    if (e.kind == "address") return ip(e.id);
  }
  FAIL("no address entity");
  return 0;
}

const LabelledSpan& incident(const Run& run, const std::string& type) {
  for (const auto& s : run.labels.incidents) {
    if (s.type == type) return s;
  }
  FAIL("no incident of type " << type);
  return run.labels.incidents.front();
}

bool in_span(const Rec& r, const LabelledSpan& s) { return r.start >= s.start && r.start < s.end; }

int exit_code(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("simulator output is deterministic per seed", "[lab][sim]") {
  SimConfig config;
  config.seed = 11;
  config.duration_seconds = 3 * 3600;
  generate(config, "det-a");
  generate(config, "det-b");
  config.seed = 12;
  generate(config, "det-c");
  const std::string a = all_text(temp_dir("det-a"));
  const std::string b = all_text(temp_dir("det-b"));
  const std::string c = all_text(temp_dir("det-c"));
  CHECK(a.size() > 100000);
  CHECK(a == b);
  CHECK(a != c);
  std::ifstream la(temp_dir("det-a") / "labels.json");
  std::ifstream lb(temp_dir("det-b") / "labels.json");
  std::stringstream sa, sb;
  sa << la.rdbuf();
  sb << lb.rdbuf();
  CHECK(sa.str() == sb.str());
}

TEST_CASE("two-day labels are well formed and cover every incident type", "[lab][sim]") {
  const Run& run = two_days();
  const Labels& l = run.labels;
  CHECK(l.seed == 7);
  CHECK(l.start == default_sim_start);
  CHECK(l.end == default_sim_start + 2 * 86400);
  CHECK(l.warmup_end == default_sim_start + 86400);
  CHECK(l.window_seconds == 60);
  const std::set<std::string> expected = {"port-scan",    "sweep",     "exfiltration",      "ddos",
                                          "brute-force",  "unusual-port", "beacon",         "reject-storm",
                                          "slow-scan",    "slow-exfiltration", "brute-force-burst"};
  std::set<std::string> types;
  for (std::size_t i = 0; i < l.incidents.size(); ++i) {
    const auto& s = l.incidents[i];
    types.insert(s.type);
    CHECK(s.id == (i < 9 ? "inc-0" : "inc-") + std::to_string(i + 1));
    CHECK(s.start >= l.warmup_end);
    CHECK(s.end <= l.end);
    CHECK(s.end > s.start);
    CHECK(s.start % 60 == 0);
    CHECK_FALSE(s.description.empty());
    // Spaced at least an hour apart, except the newcomer's (drawn last, at its host's launch).
    if (i > 0 && s.type != "newcomer-sweep") CHECK(s.start - l.incidents[i - 1].start >= 3600);
    bool has_eni = false;
    bool has_address = false;
    for (const auto& e : s.entities) {
      if (e.kind == "interface") {
        has_eni = true;
        CHECK(e.id.size() == 21);
        CHECK(e.id.rfind("eni-", 0) == 0);
        CHECK(e.id.find_first_not_of("0123456789abcdef", 4) == std::string::npos);
        CHECK(run.eni_index.contains(e.id));
      } else if (e.kind == "address") {
        has_address = true;
        CHECK(e.id.rfind("10.0.", 0) == 0);
      }
    }
    CHECK(has_eni);
    CHECK(has_address);
    if (s.type != "ddos" && s.type != "reject-storm") CHECK(s.actors.size() == 1);
  }
  // A newcomer's sweep where the estate launches instances after warm-up: last, from an
  // autoscaled host, within its first two hours.
  if (types.erase("newcomer-sweep") > 0) {
    const auto& s = l.incidents.back();
    REQUIRE(s.type == "newcomer-sweep");
    const auto& estate = l.estate;
    const auto host = std::find_if(estate.begin(), estate.end(),
                                   [&](const EstateHost& h) { return h.interface == s.entities[0].id; });
    REQUIRE(host != estate.end());
    CHECK(host->role == "autoscale");
    REQUIRE(host->present);
    CHECK(s.start >= host->present->first + 30 * 60);
    CHECK(s.start <= host->present->first + 121 * 60);
    CHECK(s.end <= host->present->second);
  }
  CHECK(types == expected);
  REQUIRE(l.benign_changes.size() == 2);
  CHECK(l.benign_changes[0].type == "deploy");
  CHECK(l.benign_changes[1].type == "new-clients");
  for (const auto& c : l.benign_changes) {
    CHECK(c.start >= l.warmup_end);
    CHECK(c.end == l.end);
  }
}

TEST_CASE("files: S3-style names sorted by time, header first, windows inside the hour", "[lab][sim]") {
  const Run& run = two_days();
  REQUIRE(run.file_names.size() == 48);
  CHECK(run.headers_ok);
  CHECK(run.windows_ok);
  for (std::size_t i = 0; i < run.file_names.size(); ++i) {
    CHECK(run.file_hours[i] == default_sim_start + static_cast<std::int64_t>(i) * 3600);
    CHECK(run.file_names[i].rfind("123456789012_vpcflowlogs_us-east-1_fl-0sim_", 0) == 0);
  }
  CHECK(run.file_names[15].find("_20260302T1500Z_") != std::string::npos);
  // AWS-like late delivery: some disorder, never more than the 2-minute jitter.
  CHECK(run.max_disorder > 0);
  CHECK(run.max_disorder <= 120);
  // Volume at scale 1: 0.3-1M records per day.
  CHECK(run.recs.size() > 600000);
  CHECK(run.recs.size() < 2000000);
}

TEST_CASE("records are plausible: bytes per packet, ephemeral client ports", "[lab][sim]") {
  const Run& run = two_days();
  std::size_t web_ingress = 0;
  for (const Rec& r : run.recs) {
    REQUIRE(r.packets >= 1);
    REQUIRE(r.bytes >= 40ull * r.packets);
    REQUIRE(r.bytes <= 1500ull * r.packets);
    REQUIRE((r.proto == 6 || r.proto == 17));
    if (!r.reject && r.dport == 443 && (r.dst >> 8) == ip(std::string_view("10.0.1.0")) >> 8 && (r.src >> 24) != 10) {
      ++web_ingress;
      REQUIRE(r.sport >= 32768);
      REQUIRE(r.sport <= 60999);
    }
  }
  CHECK(web_ingress > 10000);
}

TEST_CASE("diurnal cycle: afternoon peak 3-6x the night", "[lab][sim]") {
  const Run& run = two_days();
  std::map<std::int64_t, std::size_t> per_hour;  // day-1 hour of day -> records
  for (const Rec& r : run.recs) {
    if (r.start < run.labels.warmup_end) ++per_hour[(r.start - run.labels.start) / 3600];
  }
  const double peak = (per_hour[14] + per_hour[15] + per_hour[16]) / 3.0;
  const double night = (per_hour[2] + per_hour[3] + per_hour[4]) / 3.0;
  INFO("peak " << peak << " night " << night);
  CHECK(peak / night >= 3.0);
  CHECK(peak / night <= 6.0);
}

TEST_CASE("accepted flows are logged in both directions, on both internal ENIs", "[lab][sim]") {
  const Run& run = two_days();
  using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, std::uint16_t, std::uint16_t, std::int64_t>;
  std::vector<Key> keys;
  // Each host's ENI from the labels' estate inventory. Inferring it from the records would
  // be wrong: a NAT gateway's ENI logs its clients' addresses too.
  std::map<std::uint32_t, std::uint32_t> eni_of_address;
  for (const auto& h : run.labels.estate) {
    if (const auto it = run.eni_index.find(h.interface); it != run.eni_index.end()) eni_of_address[ip(h.address)] = it->second;
  }
  for (const Rec& r : run.recs) {
    if (r.start >= run.labels.warmup_end) continue;  // the clean day: every connection is answered
    keys.emplace_back(r.eni, r.src, r.dst, r.sport, r.dport, r.start);
  }
  std::sort(keys.begin(), keys.end());
  auto has = [&](const Key& k) { return std::binary_search(keys.begin(), keys.end(), k); };
  std::size_t checked = 0;
  std::size_t internal_pairs = 0;
  for (const Rec& r : run.recs) {
    if (r.start >= run.labels.warmup_end || r.reject) continue;
    ++checked;
    REQUIRE(has({r.eni, r.dst, r.src, r.dport, r.sport, r.start}));
    const auto s = eni_of_address.find(r.src);
    const auto d = eni_of_address.find(r.dst);
    if (s != eni_of_address.end() && d != eni_of_address.end()) {
      ++internal_pairs;
      const std::uint32_t other = r.eni == s->second ? d->second : s->second;
      REQUIRE(has({other, r.src, r.dst, r.sport, r.dport, r.start}));
    }
  }
  CHECK(checked > 300000);
  CHECK(internal_pairs > 100000);
}

TEST_CASE("background scanning: steady rejected probes on common ports", "[lab][sim]") {
  const Run& run = two_days();
  std::size_t rejects = 0;
  std::set<std::uint32_t> sources;
  for (const Rec& r : run.recs) {
    if (r.start < run.labels.warmup_end && r.reject) {
      ++rejects;
      sources.insert(r.src);
    }
  }
  CHECK(rejects > 1000);  // ~1.5/min
  CHECK(rejects < 5000);
  CHECK(sources.size() > rejects * 9 / 10);
}

TEST_CASE("injected incidents show in the flow records of their entities", "[lab][sim]") {
  const Run& run = two_days();

  SECTION("port scan: > 100 distinct ports from the actor to the victim, mostly REJECT") {
    const auto& s = incident(run, "port-scan");
    const std::uint32_t victim = address_of(s);
    const std::uint32_t actor = ip(s.actors[0]);
    std::set<std::uint16_t> ports;
    std::size_t rejects = 0;
    std::size_t total = 0;
    for (const Rec& r : run.recs) {
      if (r.src == actor && r.dst == victim && in_span(r, s) && r.eni == eni_of(run, s)) {
        ports.insert(r.dport);
        ++total;
        rejects += r.reject;
      }
    }
    CHECK(ports.size() > 100);
    CHECK(rejects * 10 > total * 9);
  }

  SECTION("exfiltration: hundreds of MB from the host to a never-seen address") {
    const auto& s = incident(run, "exfiltration");
    const std::uint32_t host = address_of(s);
    const std::uint32_t actor = ip(s.actors[0]);
    std::uint64_t bytes = 0;
    for (const Rec& r : run.recs) {
      if (r.src == actor || r.dst == actor) REQUIRE(in_span(r, s));
      if (r.src == host && r.dst == actor && r.eni == eni_of(run, s)) bytes += r.bytes;
    }
    CHECK(bytes > 200'000'000);
  }

  SECTION("sweep: the actor contacts many internal addresses on 22/445") {
    const auto& s = incident(run, "sweep");
    const std::uint32_t actor = address_of(s);
    std::set<std::uint32_t> targets;
    for (const Rec& r : run.recs) {
      if (r.src == actor && (r.dst >> 16) == (actor >> 16) && (r.dport == 22 || r.dport == 445) && in_span(r, s) &&
          r.eni == eni_of(run, s)) {
        targets.insert(r.dst);
      }
    }
    CHECK(targets.size() >= 60);
  }

  SECTION("ddos: the victims' web flows per minute are 5x+ the same hour on day 1") {
    const auto& s = incident(run, "ddos");
    const std::uint32_t victim = address_of(s);
    const std::int64_t hour_of_day = (s.start - run.labels.start) % 86400 / 3600;
    const std::int64_t base_from = run.labels.start + hour_of_day * 3600;
    double during = 0;
    double before = 0;
    std::set<std::uint32_t> sources;
    for (const Rec& r : run.recs) {
      if (r.dst != victim || (r.dport != 443 && r.dport != 80)) continue;
      if (in_span(r, s)) {
        ++during;
        sources.insert(r.src);
      } else if (r.start >= base_from && r.start < base_from + 3600) {
        ++before;
      }
    }
    const double minutes = static_cast<double>(s.end - s.start) / 60;
    INFO("during/min " << during / minutes << " day-1 same hour/min " << before / 60);
    CHECK(during / minutes > 5 * before / 60);
    CHECK(sources.size() > 100);
  }

  SECTION("brute force: many short SSH connections from the actor to the bastion") {
    const auto& s = incident(run, "brute-force");
    const std::uint32_t actor = ip(s.actors[0]);
    std::set<std::uint16_t> connections;
    for (const Rec& r : run.recs) {
      if (r.src == actor && r.dst == address_of(s) && r.dport == 22 && in_span(r, s)) connections.insert(r.sport);
    }
    CHECK(connections.size() >= 40);
  }

  SECTION("unusual port: a port the host never used otherwise") {
    const auto& s = incident(run, "unusual-port");
    const std::uint32_t host = address_of(s);
    const std::uint32_t actor = ip(s.actors[0]);
    std::set<std::uint16_t> ports;
    for (const Rec& r : run.recs) {
      if (r.src == host && r.dst == actor) {
        REQUIRE(in_span(r, s));
        ports.insert(r.dport);
      }
    }
    REQUIRE(ports.size() == 1);
    const std::uint16_t port = *ports.begin();
    CHECK((port == 4444 || port == 6667 || port == 1337 || port == 31337 || port == 5555 || port == 9001));
    for (const Rec& r : run.recs) {
      if (r.src == host && r.dst != actor) REQUIRE(r.dport != port);
    }
  }

  SECTION("beacon: tiny flows to a new address at a regular interval for hours") {
    const auto& s = incident(run, "beacon");
    const std::uint32_t host = address_of(s);
    const std::uint32_t actor = ip(s.actors[0]);
    std::set<std::int64_t> starts;
    for (const Rec& r : run.recs) {
      if (r.src == actor || r.dst == actor) REQUIRE(in_span(r, s));
      if (r.src == host && r.dst == actor && r.eni == eni_of(run, s)) {
        CHECK(r.bytes < 2000);
        starts.insert(r.start);
      }
    }
    REQUIRE(starts.size() >= 10);
    std::vector<std::int64_t> gaps;
    for (auto it = std::next(starts.begin()); it != starts.end(); ++it) gaps.push_back(*it - *std::prev(it));
    std::sort(gaps.begin(), gaps.end());
    const std::int64_t median = gaps[gaps.size() / 2];
    CHECK(median >= 100);
    CHECK(gaps.back() <= median * 5 / 4 + 60);
    CHECK(gaps.front() >= median * 3 / 4 - 60);
    CHECK(s.end - s.start >= 2 * 3600);
  }

  SECTION("reject storm: the service is rejected during the incident and never on day 1") {
    const auto& s = incident(run, "reject-storm");
    const std::uint32_t victim = address_of(s);
    const auto port = static_cast<std::uint16_t>(std::stoi(service_of(s.entities[1].id)));
    std::size_t during = 0;
    std::size_t day1 = 0;
    for (const Rec& r : run.recs) {
      if (!r.reject || r.dst != victim || r.dport != port) continue;
      if (in_span(r, s)) ++during;
      if (r.start < run.labels.warmup_end) ++day1;
    }
    CHECK(during >= 5);
    CHECK(day1 == 0);
  }
}

TEST_CASE("v5-custom format carries the extra fields consistently", "[lab][sim]") {
  SimConfig config;
  config.seed = 3;
  config.duration_seconds = 3600;
  config.format = LogFormat::v5_custom;
  const SimSummary summary = generate(config, "v5");
  const auto files = log_files(temp_dir("v5"));
  REQUIRE(files.size() == 1);
  const std::string text = gunzip_file(files[0]);
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  CHECK(line == std::string(v2_header) +
                    " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr flow-direction traffic-path");
  std::size_t n = 0;
  while (std::getline(in, line)) {
    const auto f = split(line);
    REQUIRE(f.size() == 23);
    REQUIRE(f[0] == "5");
    REQUIRE(f[14].rfind("vpc-", 0) == 0);
    REQUIRE(f[15].rfind("subnet-", 0) == 0);
    REQUIRE(f[16].rfind("i-", 0) == 0);
    REQUIRE(f[18] == "IPv4");
    REQUIRE(f[19] == f[3]);
    REQUIRE(f[20] == f[4]);
    if (f[21] == "ingress") {
      REQUIRE(f[22] == "-");
    } else {
      REQUIRE(f[21] == "egress");
      REQUIRE((f[22] == "1" || f[22] == "8"));
      REQUIRE(f[12] == "ACCEPT");
    }
    if (f[7] == "17") REQUIRE(f[17] == "0");
    ++n;
  }
  CHECK(n == summary.records);
  CHECK(summary.files == 1);
}

TEST_CASE("short runs: incidents after 2/3; --no-incidents keeps benign traffic", "[lab][sim]") {
  SimConfig config;
  config.seed = 5;
  config.duration_seconds = 6 * 3600;
  std::string error;
  const auto labels = plan_labels(config, error);
  REQUIRE(labels);
  CHECK(labels->warmup_end == config.start + 4 * 3600);
  CHECK(labels->incidents.size() >= 11);  // 12 where a newcomer launches after warm-up
  for (const auto& s : labels->incidents) {
    CHECK(s.start >= labels->warmup_end);
    CHECK(s.end <= labels->end);
  }
  config.incidents = false;
  const auto quiet = plan_labels(config, error);
  REQUIRE(quiet);
  CHECK(quiet->incidents.empty());
  CHECK(quiet->benign_changes == labels->benign_changes);
}

TEST_CASE("bad simulator settings are refused with a reason", "[lab][sim]") {
  SimConfig config;
  config.out_dir = temp_dir("bad");
  std::string error;
  config.scale = 0;
  CHECK_FALSE(simulate(config, error));
  CHECK(error.find("scale") != std::string::npos);
  config.scale = 1;
  config.start += 60;
  CHECK_FALSE(simulate(config, error));
  CHECK(error.find("start") != std::string::npos);
  config.start -= 60;
  config.duration_seconds = 1800;
  CHECK_FALSE(plan_labels(config, error));
  CHECK(error.find("duration") != std::string::npos);
  CHECK_FALSE(fs::exists(config.out_dir));
}

TEST_CASE("flowlier sim command: runs, and exits non-zero on bad options", "[lab][sim][cli]") {
  const std::string bin = FLOWLIER_BINARY;
  const fs::path out = temp_dir("cli");
  temp_dirs().dirs.push_back(out);
  CHECK(exit_code(bin + " sim --out " + out.string() + " --hours 1 --seed 9 --scale 0.5 > /dev/null") == 0);
  CHECK(fs::exists(out / "labels.json"));
  CHECK(log_files(out).size() == 1);
  CHECK(exit_code(bin + " sim --out " + out.string() + " --hours 1 --start 2026-03-02T00:30:00Z 2>/dev/null") == 1);
  CHECK(exit_code(bin + " sim --out " + out.string() + " --hours 1 --start garbage 2>/dev/null") == 2);
  CHECK(exit_code(bin + " sim --out " + out.string() + " --format v9 2>/dev/null") != 0);
  CHECK(exit_code(bin + " sim --out " + out.string() + " --days 2 --hours 3 2>/dev/null") != 0);
}

namespace {

const EstateHost* estate_host(const Run& run, const std::string& interface) {
  for (const auto& h : run.labels.estate) {
    if (h.interface == interface) return &h;
  }
  return nullptr;
}

std::vector<const EstateHost*> of_role(const Run& run, const std::string& role) {
  std::vector<const EstateHost*> out;
  for (const auto& h : run.labels.estate) {
    if (h.role == role) out.push_back(&h);
  }
  return out;
}

bool has_member(const Labels& l, const std::string& member) {
  return std::find(l.zoo.begin(), l.zoo.end(), member) != l.zoo.end();
}

}  // namespace

TEST_CASE("estates differ between seeds: host counts and benign zoo members", "[lab][sim][zoo]") {
  std::set<std::map<std::string, int>> shapes;
  std::set<std::vector<std::string>> zoos;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    SimConfig config;
    config.seed = seed;
    std::string error;
    const auto labels = plan_labels(config, error);
    REQUIRE(labels);
    std::map<std::string, int> shape;
    for (const auto& h : labels->estate) ++shape[h.role];
    for (const char* core : {"dns", "web", "app", "db", "batch", "bastion"}) CHECK(shape[core] >= 1);
    shapes.insert(shape);
    zoos.insert(labels->zoo);
    // Every estate has admins on its bastions and the internet knocking on its exposed hosts.
    CHECK(has_member(*labels, "admin-ssh"));
    CHECK(has_member(*labels, "internet-scanning"));
    CHECK(has_member(*labels, "internet-ssh"));
    // The inventory round-trips through labels.json.
    const auto again = parse_labels(labels_to_json(*labels), error);
    REQUIRE(again);
    CHECK(*again == *labels);
  }
  CHECK(shapes.size() >= 6);
  CHECK(zoos.size() >= 4);
}

TEST_CASE("every interface in the records is in the labels' estate inventory", "[lab][sim][zoo]") {
  const Run& run = two_days();
  REQUIRE_FALSE(run.labels.estate.empty());
  for (const auto& eni : run.enis) CHECK(estate_host(run, eni) != nullptr);
}

TEST_CASE("admin SSH on bastions: working hours only, 4-90 kB sessions, rejected attempts around the clock",
          "[lab][sim][zoo]") {
  const Run& run = two_days();
  std::set<std::uint32_t> actors;
  for (const auto& s : run.labels.incidents) {
    for (const auto& a : s.actors) actors.insert(ip(a));
  }
  std::map<std::uint32_t, std::uint64_t> bytes_by_sport;  // accepted inbound sessions on day 1
  std::set<std::int64_t> busy_minutes;
  std::size_t night_sessions = 0;
  std::size_t rejected = 0;
  const auto bastions = of_role(run, "bastion");
  REQUIRE_FALSE(bastions.empty());
  const std::uint32_t eni = run.eni_index.at(bastions[0]->interface);
  const std::uint32_t self = ip(bastions[0]->address);
  for (const Rec& r : run.recs) {
    if (r.eni != eni || r.start >= run.labels.warmup_end) continue;
    const bool inbound_ssh = r.dst == self && r.dport == 22 && (r.src >> 24) != 10;
    const bool reply = r.src == self && r.sport == 22 && (r.dst >> 24) != 10;
    if (inbound_ssh && r.reject) ++rejected;
    if ((!inbound_ssh && !reply) || r.reject) continue;
    const std::uint16_t client_port = inbound_ssh ? r.sport : r.dport;
    bytes_by_sport[client_port] += r.bytes;
    const std::int64_t hour = (r.start - run.labels.start) / 3600;  // day 1 is a Monday
    if (hour < 6 || hour >= 20) ++night_sessions;
    busy_minutes.insert(r.start / 60);
  }
  CHECK(night_sessions == 0);
  REQUIRE(bytes_by_sport.size() > 50);
  for (const auto& [port, bytes] : bytes_by_sport) {
    CHECK(bytes >= 3500);
    CHECK(bytes <= 92000);
  }
  // ~20-40% of the ~10 working hours' minutes have a session.
  CHECK(busy_minutes.size() > 600 * 0.12);
  CHECK(busy_minutes.size() < 660 * 0.45);
  // ~1 rejected attempt a minute from the internet, day and night.
  CHECK(rejected > 1440 / 2);
  CHECK(rejected < 1440 * 2);
}

TEST_CASE("autoscaled hosts exist only between arrival and departure, with new interfaces each day",
          "[lab][sim][zoo]") {
  const Run& run = two_days();
  const auto hosts = of_role(run, "autoscale");
  if (hosts.empty()) {
    WARN("seed 7 has no autoscaled hosts");
    return;
  }
  std::set<std::string> enis;
  for (const auto* h : hosts) {
    REQUIRE(h->present);
    enis.insert(h->interface);
    const auto it = run.eni_index.find(h->interface);
    REQUIRE(it != run.eni_index.end());
    std::size_t records = 0;
    for (const Rec& r : run.recs) {
      if (r.eni != it->second) continue;
      ++records;
      REQUIRE(r.start >= h->present->first);
      REQUIRE(r.start < h->present->second + 60);
    }
    CHECK(records > 100);
    const std::int64_t arrive_hour = (h->present->first % 86400) / 3600;
    CHECK((arrive_hour == 7 || arrive_hour == 8));
  }
  CHECK(enis.size() == hosts.size());
}

TEST_CASE("kubernetes nodes carry churning pod addresses on their interface", "[lab][sim][zoo]") {
  const Run& run = two_days();
  const auto nodes = of_role(run, "k8s");
  if (nodes.empty()) {
    WARN("seed 7 has no kubernetes nodes");
    return;
  }
  const std::uint32_t eni = run.eni_index.at(nodes[0]->interface);
  const std::uint32_t prefix = ip(nodes[0]->pods.substr(0, nodes[0]->pods.find('/'))) >> 8;
  std::set<std::uint32_t> pods;
  for (const Rec& r : run.recs) {
    if (r.eni == eni && (r.src >> 8) == prefix) pods.insert(r.src);
  }
  CHECK(pods.size() > 20);
}

TEST_CASE("subtle incidents: slow scans over hours, bursts of 20-300 attempts, low and slow uploads",
          "[lab][sim]") {
  const Run& run = two_days();

  SECTION("slow scan: one port at a time, spread over at least two hours") {
    const auto& s = incident(run, "slow-scan");
    CHECK(s.end - s.start >= 2 * 3600);
    const std::uint32_t actor = ip(s.actors[0]);
    std::set<std::uint16_t> ports;
    std::map<std::int64_t, std::size_t> per_minute;
    for (const Rec& r : run.recs) {
      if (r.src != actor) continue;
      REQUIRE(in_span(r, s));
      if (r.eni == eni_of(run, s)) {
        ports.insert(r.dport);
        ++per_minute[r.start / 60];
      }
    }
    CHECK(ports.size() >= 100);
    std::size_t busiest = 0;
    for (const auto& [m, n] : per_minute) busiest = std::max(busiest, n);
    CHECK(busiest <= 6);
  }

  SECTION("brute-force burst: 20 to 300 attempts from one source") {
    const auto& s = incident(run, "brute-force-burst");
    const std::uint32_t actor = ip(s.actors[0]);
    std::set<std::uint16_t> attempts;
    for (const Rec& r : run.recs) {
      if (r.src == actor && r.dst == address_of(s) && in_span(r, s)) attempts.insert(r.sport);
    }
    CHECK(attempts.size() >= 18);  // ephemeral ports may repeat
    CHECK(attempts.size() <= 300);
  }

  SECTION("slow exfiltration: tens to hundreds of MB in small transfers over an hour or more") {
    const auto& s = incident(run, "slow-exfiltration");
    CHECK(s.end - s.start >= 3600);
    const std::uint32_t actor = ip(s.actors[0]);
    std::uint64_t bytes = 0;
    std::set<std::int64_t> minutes;
    for (const Rec& r : run.recs) {
      if (r.src == actor || r.dst == actor) REQUIRE(in_span(r, s));
      if (r.src == address_of(s) && r.dst == actor && r.eni == eni_of(run, s)) {
        bytes += r.bytes;
        minutes.insert(r.start / 60);
      }
    }
    CHECK(bytes > 20'000'000);
    CHECK(bytes < 600'000'000);
    CHECK(minutes.size() >= 10);
  }
}

TEST_CASE("leaving a zoo member out removes its records and changes nothing else", "[lab][sim][zoo]") {
  SimConfig config;
  config.seed = 7;
  config.duration_seconds = 2 * 3600;
  generate(config, "zoo-all");
  config.zoo_exclude = {"saas-agents", "internet-scanning"};
  const SimSummary fewer = generate(config, "zoo-fewer");
  CHECK(std::find(fewer.labels.zoo.begin(), fewer.labels.zoo.end(), "saas-agents") == fewer.labels.zoo.end());
  for (const auto& h : fewer.labels.estate) {
    CHECK(std::find(h.zoo.begin(), h.zoo.end(), "internet-scanning") == h.zoo.end());
  }
  auto sorted_lines = [](const fs::path& dir) {
    std::vector<std::string> lines;
    for (const auto& p : log_files(dir)) {
      std::istringstream in(gunzip_file(p));
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  const auto all = sorted_lines(temp_dir("zoo-all"));
  const auto without = sorted_lines(temp_dir("zoo-fewer"));
  CHECK(without.size() + 200 < all.size());
  CHECK(std::includes(all.begin(), all.end(), without.begin(), without.end()));

  config.zoo_exclude = {"no-such-member"};
  std::string error;
  CHECK_FALSE(plan_labels(config, error));
  CHECK(error.find("no-such-member") != std::string::npos);
}
