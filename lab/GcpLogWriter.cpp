// The simulated estate as GCP writes it to a Cloud Storage sink: VPC flow logs of accepted
// traffic, reported by the VM at each end (reporter SRC / DEST), and Firewall Rules Logging
// entries for the connections a deny rule dropped (VPC flow logs never show those). Each
// log goes to its own hourly shards, JSON Lines of LogEntry:
//   compute.googleapis.com/vpc_flows/YYYY/MM/DD/HH:00:00_HH:59:59_S<n>.json
//   compute.googleapis.com/firewall/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <tuple>

#include "lab/CloudLogWriter.hpp"
#include "lab/TimeText.hpp"

namespace flowlier::lab {

namespace {

constexpr const char* kProject = "flowlier-sim";
constexpr const char* kVpc = "sim-vpc";
constexpr const char* kRegion = "us-central1";
constexpr const char* kZone = "us-central1-a";
constexpr int kFlowShards = 2;

struct Entry {
  std::int64_t time = 0;
  std::string text;
};

class GcpLogWriter final : public CloudLogWriter {
 public:
  GcpLogWriter(const Environment& env, std::filesystem::path out_dir, std::uint64_t seed)
      : env_(env), out_dir_(std::move(out_dir)), seed_(seed) {
    for (std::size_t i = 0; i < env.hosts().size(); ++i) names_.push_back(gcp_vm_name(env, i));
  }

  std::string interface_id(std::size_t index) const override { return names_[index]; }

  std::string write_hour(std::int64_t hour_start, const std::vector<FlowLine>& lines, WriteTotals& totals) override {
    std::array<std::vector<Entry>, kFlowShards> flows;
    std::vector<Entry> firewall;
    for (const auto& l : lines) {
      if (l.reject) {
        firewall.push_back({l.start, firewall_entry(l)});
      } else {
        flows[l.host % kFlowShards].push_back({l.end, flow_entry(l)});
      }
    }
    const std::string t = format_rfc3339(hour_start);  // YYYY-MM-DDTHH:MM:SSZ
    const std::string hh = t.substr(11, 2);
    const std::filesystem::path day = std::filesystem::path(t.substr(0, 4)) / t.substr(5, 2) / t.substr(8, 2);
    const auto shard = [&](int n) { return fmt::format("{}:00:00_{}:59:59_S{}.json", hh, hh, n); };
    const std::filesystem::path root = out_dir_ / "compute.googleapis.com";
    for (int n = 0; n < kFlowShards; ++n) {
      if (auto e = write_entries(root / "vpc_flows" / day / shard(n), flows[n], totals); !e.empty()) return e;
    }
    return write_entries(root / "firewall" / day / shard(0), firewall, totals);
  }

 private:
  std::string write_entries(const std::filesystem::path& path, std::vector<Entry>& entries, WriteTotals& totals) {
    if (entries.empty()) return {};
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.time < b.time; });
    std::string text;
    for (const auto& e : entries) text.append(e.text).push_back('\n');
    totals.records += entries.size();
    return write_log_file(path, text, totals);
  }

  std::string instance(std::size_t host) const {
    return fmt::format(R"({{"project_id":"{}","region":"{}","zone":"{}","vm_name":"{}"}})", kProject, kRegion, kZone,
                       names_[host]);
  }
  std::string vpc(std::size_t host) const {
    return fmt::format(R"({{"project_id":"{}","vpc_name":"{}","subnetwork_name":"{}"}})", kProject, kVpc,
                       role_name(env_.host(host).role));
  }
  std::string connection(const FlowLine& l) const {
    return fmt::format(R"({{"src_ip":"{}","src_port":{},"dest_ip":"{}","dest_port":{},"protocol":{}}})",
                       ipv4_text(l.src), l.sport, ipv4_text(l.dst), l.dport, l.protocol);
  }
  std::string resource(std::size_t host) const {
    return fmt::format(
        R"({{"type":"gce_subnetwork","labels":{{"project_id":"{}","subnetwork_name":"{}","location":"{}"}}}})",
        kProject, role_name(env_.host(host).role), kZone);
  }
  std::string insert_id(const FlowLine& l, std::uint64_t salt) const {
    std::uint64_t h = seed_ ^ salt;
    for (std::uint64_t v : {std::uint64_t(l.start), std::uint64_t{l.src} << 32 | l.dst,
                            std::uint64_t{l.sport} << 32 | std::uint64_t{l.dport} << 8 | l.host, l.bytes}) {
      h = (h ^ v) * 0x100000001b3ull;
      h ^= h >> 29;
    }
    return fmt::format("{:016x}", h);
  }

  // One VPC flow log entry, reported by the VM whose record this is.
  std::string flow_entry(const FlowLine& l) const {
    std::string sides;
    for (const bool src_side : {true, false}) {
      const auto other = env_.find(src_side ? l.src : l.dst);
      if (!other) continue;
      const char* p = src_side ? "src" : "dest";
      sides += fmt::format(R"(,"{}_instance":{},"{}_vpc":{})", p, instance(*other), p, vpc(*other));
    }
    const std::string start = format_rfc3339(l.start), end = format_rfc3339(l.end);
    return fmt::format(
        R"({{"insertId":"{}","jsonPayload":{{"connection":{},"reporter":"{}","bytes_sent":"{}","packets_sent":"{}","start_time":"{}","end_time":"{}"{}}},"logName":"projects/{}/logs/compute.googleapis.com%2Fvpc_flows","resource":{},"timestamp":"{}","receiveTimestamp":"{}"}})",
        insert_id(l, 1), connection(l), l.egress ? "SRC" : "DEST", l.bytes, l.packets, start, end, sides, kProject,
        resource(l.host), end, format_rfc3339(l.end + 30));
  }

  // One Firewall Rules Logging entry: the VM's ingress deny rule dropped the connection.
  std::string firewall_entry(const FlowLine& l) const {
    std::string remote;
    if (const auto other = env_.find(l.src)) {
      remote = fmt::format(R"(,"remote_instance":{},"remote_vpc":{})", instance(*other), vpc(*other));
    }
    const std::string time = format_rfc3339(l.start);
    return fmt::format(
        R"({{"insertId":"{}","jsonPayload":{{"connection":{},"disposition":"DENIED","rule_details":{{"reference":"network:{}/firewall:deny-all-ingress","priority":65534,"action":"DENY","direction":"INGRESS","source_range":["0.0.0.0/0"],"ip_port_info":[{{"ip_protocol":"ALL"}}]}},"instance":{},"vpc":{}{}}},"logName":"projects/{}/logs/compute.googleapis.com%2Ffirewall","resource":{},"timestamp":"{}","receiveTimestamp":"{}"}})",
        insert_id(l, 2), connection(l), kVpc, instance(l.host), vpc(l.host), remote, kProject, resource(l.host), time,
        format_rfc3339(l.start + 10));
  }

  const Environment& env_;
  std::filesystem::path out_dir_;
  std::uint64_t seed_;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<CloudLogWriter> make_gcp_log_writer(const Environment& env, std::filesystem::path out_dir,
                                                    std::uint64_t seed) {
  return std::make_unique<GcpLogWriter>(env, std::move(out_dir), seed);
}

}  // namespace flowlier::lab
