// The simulated estate as Azure writes it: one PT1H.json blob per NIC and hour holding
// one record per minute, each tuple one connection with both directions' counters.
// NSG flow logs v2 (container insights-logs-networksecuritygroupflowevent):
//   resourceId=/SUBSCRIPTIONS/<sub>/RESOURCEGROUPS/<rg>/PROVIDERS/MICROSOFT.NETWORK/
//     NETWORKSECURITYGROUPS/<nsg>/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<mac>/PT1H.json
// VNet flow logs (container insights-logs-flowlogflowevent):
//   flowLogResourceID=/SUBSCRIPTIONS/<sub>/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/
//     MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/<name>/y=…/macAddress=<mac>/PT1H.json
// A connection gets a B tuple when it begins (empty counters, as Azure writes it), then a
// C tuple per minute while it continues and an E tuple when it ends, each with the
// counters since the previous tuple; a denied connection one tuple (decision D / state D).
// Simplification: a connection still open at the end of an hour is closed with an E tuple.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/TimeMath.hpp"
#include "lab/CloudLogWriter.hpp"
#include "lab/TimeText.hpp"

namespace flowlier::lab {

namespace {

constexpr const char* kSubscription = "8F0C6F7E-5E2B-4C2D-9C7A-123456789012";
constexpr const char* kResourceGroup = "FLOWLIER-SIM-RG";

using ConnectionKey =
    std::tuple<std::uint32_t, std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t, std::uint8_t>;

ConnectionKey key_of(const AzureConnection& c) {
  return {c.host, c.client, c.client_port, c.server, c.server_port, c.protocol};
}

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
  return s;
}

struct Tuple {
  std::int64_t time = 0;
  std::string rule;
  std::string text;
};

class AzureLogWriter final : public CloudLogWriter {
 public:
  AzureLogWriter(const Environment& env, LogFormat format, std::filesystem::path out_dir)
      : env_(env), vnet_(format == LogFormat::azure_vnet), out_dir_(std::move(out_dir)) {}

  std::string interface_id(std::size_t index) const override { return azure_mac(index); }

  std::string write_hour(std::int64_t hour_start, const std::vector<FlowLine>& lines, WriteTotals& totals) override {
    const auto connections = join_connections(lines);
    std::set<std::pair<ConnectionKey, std::int64_t>> present;  // (connection, window) of this hour
    for (const auto& c : connections) present.emplace(key_of(c), window_of(c.start));

    // host -> minute record start -> tuples
    std::map<std::uint32_t, std::map<std::int64_t, std::vector<Tuple>>> blobs;
    for (const auto& c : connections) {
      const ConnectionKey key = key_of(c);
      const std::int64_t window = window_of(c.start);
      auto& minute = blobs[c.host][window];
      if (c.denied) {
        minute.push_back({c.start, "DefaultRule_DenyAllInBound", tuple(c, c.start, 'D', false)});
        continue;
      }
      const auto last = last_window_.find(key);
      const bool begins = last == last_window_.end() || last->second != window - 60;
      last_window_[key] = window;
      const std::string rule = rule_for(c);
      if (begins) minute.push_back({c.start, rule, tuple(c, c.start, 'B', false)});
      const bool continues = present.count({key, window + 60}) > 0;
      minute.push_back({c.end, rule, tuple(c, c.end, continues ? 'C' : 'E', true)});
    }
    // Connections not seen for two windows are over; forget them.
    for (auto it = last_window_.begin(); it != last_window_.end();) {
      it = it->second < hour_start - 120 ? last_window_.erase(it) : std::next(it);
    }

    for (auto& [host, minutes] : blobs) {
      std::string text = "{\"records\":[";
      bool first = true;
      for (auto& [window, tuples] : minutes) {
        std::stable_sort(tuples.begin(), tuples.end(), [](const Tuple& a, const Tuple& b) {
          return std::tie(a.rule, a.time) < std::tie(b.rule, b.time);
        });
        if (!first) text.push_back(',');
        first = false;
        text += record(host, window, tuples);
        totals.records += tuples.size();
      }
      text += "]}\n";
      if (auto e = write_log_file(out_dir_ / blob_path(host, hour_start), text, totals); !e.empty()) return e;
    }
    return {};
  }

 private:
  static std::int64_t window_of(std::int64_t t) { return core::window_start(t, 60); }

  std::string rule_for(const AzureConnection& c) const {
    if (!c.outbound) return fmt::format("UserRule_allow-{}-inbound", role_name(env_.host(c.host).role));
    return env_.find(c.server) ? "DefaultRule_AllowVnetOutBound" : "DefaultRule_AllowInternetOutBound";
  }

  std::string tuple(const AzureConnection& c, std::int64_t time, char state, bool counters) const {
    const char direction = c.outbound ? 'O' : 'I';
    std::string text;
    if (vnet_) {
      // VNet: milliseconds, IANA protocol number, state (D = denied), encryption.
      text = fmt::format("{},{},{},{},{},{},{},{},NX,", time * 1000, ipv4_text(c.client), ipv4_text(c.server),
                         c.client_port, c.server_port, c.protocol, direction, state);
    } else {
      text = fmt::format("{},{},{},{},{},{},{},{},{},", time, ipv4_text(c.client), ipv4_text(c.server), c.client_port,
                         c.server_port, c.protocol == 17 ? 'U' : 'T', direction, state == 'D' ? 'D' : 'A',
                         state == 'D' ? 'B' : state);
    }
    if (counters) {
      text += fmt::format("{},{},{},{}", c.packets_out, c.bytes_out, c.packets_back, c.bytes_back);
    } else {
      text += ",,,";
    }
    return text;
  }

  std::string record(std::uint32_t host, std::int64_t window, const std::vector<Tuple>& tuples) const {
    const std::string mac = azure_mac(host);
    const std::string time = format_rfc3339(window + 60);
    std::string groups;
    for (std::size_t i = 0; i < tuples.size();) {
      std::size_t j = i;
      std::string list;
      while (j < tuples.size() && tuples[j].rule == tuples[i].rule) {
        if (j > i) list.push_back(',');
        list += '"' + tuples[j].text + '"';
        ++j;
      }
      if (!groups.empty()) groups.push_back(',');
      groups += vnet_ ? fmt::format(R"({{"rule":"{}","flowTuples":[{}]}})", tuples[i].rule, list)
                      : fmt::format(R"({{"rule":"{}","flows":[{{"mac":"{}","flowTuples":[{}]}}]}})", tuples[i].rule,
                                    mac, list);
      i = j;
    }
    if (vnet_) {
      return fmt::format(
          R"({{"time":"{}","flowLogVersion":4,"flowLogGUID":"66aa66aa-0000-4000-8000-{:012x}","macAddress":"{}","category":"FlowLogFlowEvent","flowLogResourceID":"{}","targetResourceID":"/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/sim-vnet","operationName":"FlowLogFlowEvent","flowRecords":{{"flows":[{{"aclID":"00000000-0000-4000-8000-{:012x}","flowGroups":[{}]}}]}}}})",
          time, host, mac, vnet_flow_log_id(), kSubscription, kResourceGroup, host, groups);
    }
    return fmt::format(
        R"({{"time":"{}","systemId":"5f7e1c3a-0000-4000-8000-{:012x}","macAddress":"{}","category":"NetworkSecurityGroupFlowEvent","resourceId":"{}","operationName":"NetworkSecurityGroupFlowEvents","properties":{{"Version":2,"flows":[{}]}}}})",
        time, host, mac, nsg_id(host), groups);
  }

  std::string nsg_id(std::uint32_t host) const {
    return fmt::format("/SUBSCRIPTIONS/{}/RESOURCEGROUPS/{}/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-{}",
                       kSubscription, kResourceGroup, upper(role_name(env_.host(host).role)));
  }
  static std::string vnet_flow_log_id() {
    return fmt::format(
        "/SUBSCRIPTIONS/{}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/"
        "NETWORKWATCHER_EASTUS/FLOWLOGS/SIM-VNET-FLOWLOG",
        kSubscription);
  }

  std::filesystem::path blob_path(std::uint32_t host, std::int64_t hour_start) const {
    const std::string t = format_rfc3339(hour_start);
    const std::string when = fmt::format("y={}/m={}/d={}/h={}/m=00/macAddress={}/PT1H.json", t.substr(0, 4),
                                         t.substr(5, 2), t.substr(8, 2), t.substr(11, 2), azure_mac(host));
    if (vnet_)
      return std::filesystem::path("insights-logs-flowlogflowevent") / ("flowLogResourceID=" + vnet_flow_log_id()) /
             when;
    return std::filesystem::path("insights-logs-networksecuritygroupflowevent") / ("resourceId=" + nsg_id(host)) / when;
  }

  const Environment& env_;
  bool vnet_;
  std::filesystem::path out_dir_;
  std::map<ConnectionKey, std::int64_t> last_window_;  // connection -> the last window it carried traffic
};

}  // namespace

std::unique_ptr<CloudLogWriter> make_azure_log_writer(const Environment& env, LogFormat format,
                                                      std::filesystem::path out_dir, std::uint64_t /*seed*/) {
  return std::make_unique<AzureLogWriter>(env, format, std::move(out_dir));
}

}  // namespace flowlier::lab
