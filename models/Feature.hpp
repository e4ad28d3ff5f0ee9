#pragma once
// The window features kept per entity. Names are those used in anomaly events.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace flowlier::models {

enum class Feature : std::uint8_t {
  flows,           // flow records, counted by direction (see Observation::directions)
  packets,         // packets, both directions
  bytes_in,        // bytes towards the entity
  bytes_out,       // bytes from the entity
  distinct_peers,  // remote addresses that opened connections to the entity (fanout_peers: those it opened)
  distinct_ports,  // service ports (the non-ephemeral side of each flow)
  rejected_flows,  // flows with action REJECT
  external_flows,  // flows whose peer is outside the internal networks
  new_peers,       // peers the entity never connected to before (as a client)
  new_ports,       // service ports the entity never connected to before (as a client)
  fanout_peers,    // peers the entity connected to as a client (lateral movement, sweeps)
  // external flows the entity initiated (it is the client): on a server, outbound
  // contacts are few and would vanish inside external_flows' inbound traffic.
  external_client_flows,
  // Unsolicited inbound flows from the entity's most persistent source, decayed over
  // a few windows (RepeatedSources): brute force, slow scans, bursts from one address.
  repeated_source_flows,
  // Bytes sent to the entity's largest external destination, decayed over about half
  // an hour (RepeatedSources again): low-and-slow exfiltration adds up per destination
  // where each window alone is ordinary.
  external_upload_bytes,
};
inline constexpr std::size_t kFeatureCount = 14;

using FeatureVector = std::array<double, kFeatureCount>;

std::string_view to_string(Feature f);
std::optional<Feature> parse_feature(std::string_view name);

}  // namespace flowlier::models
