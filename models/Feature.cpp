#include "models/Feature.hpp"

namespace flowlier::models {

namespace {
constexpr std::array<std::string_view, kFeatureCount> kNames{
    "flows",          "packets",        "bytes_in",  "bytes_out", "distinct_peers",
    "distinct_ports", "rejected_flows", "external_flows", "new_peers", "new_ports",
    "fanout_peers",   "external_client_flows", "repeated_source_flows", "external_upload_bytes"};
}

std::string_view to_string(Feature f) { return kNames[static_cast<std::size_t>(f)]; }

std::optional<Feature> parse_feature(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Feature>(i);
  }
  return std::nullopt;
}

}  // namespace flowlier::models
