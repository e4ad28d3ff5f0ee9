#include "pipeline/Explanation.hpp"

#include <cmath>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "pipeline/IpAddress.hpp"

namespace flowlier::pipeline {

namespace {
using models::Feature;

std::string peer_text(const models::PeerAddress& bytes) {
  IpAddress a;
  static_assert(sizeof(a) == sizeof(bytes));
  std::memcpy(static_cast<void*>(&a), bytes.data(), bytes.size());
  return a.str();
}

std::string port_text(const models::PortKey& key) {
  switch (key.protocol) {
    case 6: return fmt::format("tcp/{}", key.port);
    case 17: return fmt::format("udp/{}", key.port);
    default: return fmt::format("{}/{}", key.protocol, key.port);
  }
}

template <typename Top, typename Format>
void append_top(std::vector<Contributor>& out, const char* key, const char* base, const Top& top, Format format,
                std::size_t limit) {
  std::size_t count = 0;
  const auto entries = top.sorted(count);
  const double total = top.total();
  for (std::size_t i = 0; i < count && i < limit; ++i) {
    if (entries[i].weight <= 0) continue;
    out.push_back({key, format(entries[i].key), total > 0 ? entries[i].weight / total : 0.0, base});
  }
}

bool is_login_port(std::uint16_t port) {
  switch (port) {
    case 21: case 22: case 23: case 3389: case 5900: case 1433: case 3306: case 5432: case 445: return true;
    default: return false;
  }
}

bool significant(const models::WindowScores& scores, Feature f, double p = 1e-4) {
  const auto& r = scores[static_cast<std::size_t>(f)].result;
  return !r.warming_up && r.tail_probability < p;
}
}  // namespace

std::vector<Contributor> contributors_for(Feature feature, const models::WindowAccumulator& w) {
  std::vector<Contributor> out;
  switch (feature) {
    // Volume events rank peers and ports by the same volume (bytes, both directions).
    case Feature::bytes_in:
    case Feature::bytes_out:
    case Feature::packets:
      append_top(out, "peer", "bytes", w.peers_by_bytes(), peer_text, 3);
      append_top(out, "port", "bytes", w.ports_by_bytes(), port_text, 2);
      break;
    case Feature::new_peers:
      append_top(out, "new_peer", "first contacts", w.new_peers(), peer_text, 3);
      append_top(out, "port", "flows", w.ports_by_flows(), port_text, 2);
      break;
    case Feature::external_upload_bytes:
      append_top(out, "peer", "bytes out", w.uploads(), peer_text, 3);
      append_top(out, "port", "bytes", w.ports_by_bytes(), port_text, 2);
      break;
    case Feature::repeated_source_flows:
      append_top(out, "source", "inbound flows", w.sources(), peer_text, 2);
      append_top(out, "port", "flows", w.ports_by_flows(), port_text, 2);
      break;
    case Feature::new_ports:
      append_top(out, "new_port", "first contacts", w.new_ports(), port_text, 3);
      append_top(out, "peer", "flows", w.peers_by_flows(), peer_text, 2);
      break;
    default:
      append_top(out, "peer", "flows", w.peers_by_flows(), peer_text, 3);
      append_top(out, "port", "flows", w.ports_by_flows(), port_text, 3);
      break;
  }
  return out;
}

std::string categorize(Feature feature, const models::FeatureVector& x, const models::WindowScores& scores,
                       const models::WindowAccumulator& w, const std::vector<Contributor>&) {
  // Reads the whole window, not only the reported feature: a brute force shows as
  // flows, rejects or external flows, whichever is the most improbable.
  auto top = [](const auto& contributors, double& share) {
    std::size_t n = 0;
    const auto entries = contributors.sorted(n);
    share = n > 0 && contributors.total() > 0 ? entries[0].weight / contributors.total() : 0.0;
    return n > 0 ? std::optional(entries[0].key) : std::nullopt;
  };
  double peer_share = 0, port_share = 0, byte_share = 0;
  const auto top_peer = top(w.peers_by_flows(), peer_share);
  const auto top_port = top(w.ports_by_flows(), port_share);
  const auto top_byte_peer = top(w.peers_by_bytes(), byte_share);
  const bool inbound = w.inbound_share() >= 0.5;
  auto sig = [&](Feature f) { return significant(scores, f); };
  auto is_external = [](const models::PeerAddress& bytes) {
    IpAddress a;
    std::memcpy(static_cast<void*>(&a), bytes.data(), bytes.size());
    return !a.is_private();
  };
  const bool busy = sig(Feature::flows) || sig(Feature::packets) || sig(Feature::external_flows) ||
                    sig(Feature::external_client_flows) || sig(Feature::rejected_flows);

  // Direction by bytes: an exfiltrating server still answers its many clients. A
  // volume finding is read by its volume first: a large upload to one external peer
  // is exfiltration even on a host whose flows are mostly inbound logins.
  const double bytes_in = x[static_cast<std::size_t>(Feature::bytes_in)];
  const double bytes_out = x[static_cast<std::size_t>(Feature::bytes_out)];
  const bool volume_finding = feature == Feature::bytes_out || feature == Feature::bytes_in || feature == Feature::packets;
  const bool upload = top_byte_peer && byte_share >= 0.5 && is_external(*top_byte_peer) && bytes_out > bytes_in;
  if (volume_finding && upload) return "exfiltration";
  // Bytes that keep going to one outside destination: what low-and-slow exfiltration is.
  if (feature == Feature::external_upload_bytes) return "exfiltration";

  if (sig(Feature::distinct_ports) && (feature == Feature::distinct_ports || feature == Feature::rejected_flows ||
                                       feature == Feature::repeated_source_flows || peer_share >= 0.5)) {
    return "port-scan";
  }
  // One address coming back again and again: on a login port a brute force, on many
  // ports a scan, otherwise a burst of repeated contact.
  if (feature == Feature::repeated_source_flows) {
    double source_share = 0;
    const auto source = top(w.sources(), source_share);
    (void)source;
    if (top_port && port_share >= 0.5 && is_login_port(top_port->port)) return "brute-force";
    if (x[static_cast<std::size_t>(Feature::distinct_ports)] >= 10) return "port-scan";
    return "repeated-contact";
  }
  if (sig(Feature::fanout_peers) || (sig(Feature::distinct_peers) && !inbound)) return "sweep";
  // Many attempts, not much data: a brute force is a count finding.
  if (!volume_finding && inbound && busy && top_port && port_share >= 0.5 && is_login_port(top_port->port) &&
      peer_share >= 0.5) {
    return "brute-force";
  }
  if (inbound && sig(Feature::distinct_peers) && (busy || sig(Feature::bytes_in))) return "ddos";
  if (sig(Feature::bytes_out) && upload) return "exfiltration";
  if (sig(Feature::rejected_flows)) return peer_share >= 0.5 ? "port-scan" : "reject-storm";
  // Many first contacts at once is a sweep even when each is on an old port.
  if (sig(Feature::new_peers) && x[static_cast<std::size_t>(Feature::new_peers)] >= 5) return "sweep";
  if (feature == Feature::new_ports || (sig(Feature::new_ports) && feature != Feature::new_peers)) return "unusual-port";
  if (feature == Feature::new_peers || feature == Feature::external_flows ||
      feature == Feature::external_client_flows) {
    return "rare-peer";
  }
  (void)top_peer;
  return "";
}

bool uploads_to_external_peer(const models::FeatureVector& x, const models::WindowAccumulator& w,
                              bool new_peer_only) {
  if (x[static_cast<std::size_t>(Feature::bytes_out)] <= x[static_cast<std::size_t>(Feature::bytes_in)]) return false;
  std::size_t n = 0;
  const auto by_bytes = w.peers_by_bytes().sorted(n);
  if (n == 0 || w.peers_by_bytes().total() <= 0 || by_bytes[0].weight < 0.5 * w.peers_by_bytes().total()) return false;
  IpAddress top;
  std::memcpy(static_cast<void*>(&top), by_bytes[0].key.data(), by_bytes[0].key.size());
  if (top.is_private()) return false;
  if (!new_peer_only) return true;
  std::size_t m = 0;
  const auto fresh = w.new_peers().sorted(m);
  for (std::size_t i = 0; i < m; ++i) {
    if (fresh[i].key == by_bytes[0].key) return true;
  }
  return false;
}

std::string human_value(Feature feature, double v) {
  if (feature == Feature::bytes_in || feature == Feature::bytes_out || feature == Feature::external_upload_bytes) {
    static constexpr const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (std::abs(v) >= 1000 && u < 5) {
      v /= 1000;
      ++u;
    }
    return u == 0 ? fmt::format("{:.0f} B", v) : fmt::format("{:.3g} {}", v, units[u]);
  }
  if (std::abs(v) >= 100 || v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:.2g}", v);
}

std::vector<Contributor> beacon_contributors(const detectors::BeaconFinding& f) {
  return {{"peer", peer_text(f.peer), 1.0, "contacts"}, {"port", port_text({f.service_port, f.protocol}), 1.0, "contacts"}};
}

std::string explain_beacon(const AnomalyEvent& e, const detectors::BeaconFinding& f) {
  auto span = [](double seconds) {
    if (seconds >= 5400) return fmt::format("{:.1f} h", seconds / 3600);
    if (seconds >= 90) return fmt::format("{:.1f} min", seconds / 60);
    return fmt::format("{:.0f} s", seconds);
  };
  return fmt::format(
      "{} {} checks in with new external peer {} on {} every {} ({} contacts over {}): interval CV {:.2f} against "
      "~1 for unscheduled contacts, p={:.1e} ({}: periodicity p={:.1e} over {} intervals, first-contact novelty "
      "p={:.1e}); looks like {}",
      e.entity_kind, e.entity_id, peer_text(f.peer), port_text({f.service_port, f.protocol}), span(f.mean_interval),
      f.intervals + 1, span(static_cast<double>(f.last_contact - f.first_contact)), f.cv, e.tail_probability,
      e.detector, f.periodic_p, f.intervals, f.novelty_p, e.category);
}

std::string explain(const AnomalyEvent& e, const std::vector<Contributor>& contributors) {
  const auto feature = models::parse_feature(e.feature).value_or(Feature::flows);
  std::string text = fmt::format("{} {} {}: {} against {} expected", e.entity_kind, e.entity_id, e.feature,
                                 human_value(feature, e.value), human_value(feature, e.expected));
  if (e.bounds) text += fmt::format(" (normal up to {})", human_value(feature, e.bounds->second));
  text += fmt::format(", p={:.1e} ({})", e.tail_probability, e.detector);
  if (!e.category.empty()) text += fmt::format("; looks like {}", e.category);
  std::string tops;
  for (const auto& c : contributors) {
    if (tops.size() > 160) break;
    tops += fmt::format("{}{} {} {:.0f}%{}{}", tops.empty() ? "" : ", ", c.key, c.value, 100 * c.share,
                        c.base.empty() ? "" : " of ", c.base);
  }
  if (!tops.empty()) text += "; top: " + tops;
  return text;
}

}  // namespace flowlier::pipeline
