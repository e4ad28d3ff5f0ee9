#include "pipeline/FlowRecord.hpp"

#include "pipeline/JsonText.hpp"

namespace flowlier::pipeline {

const char* to_string(Format v) {
  switch (v) {
    case Format::aws_vpc: return "aws-vpc";
    case Format::gcp_vpc: return "gcp-vpc";
    case Format::azure_nsg: return "azure-nsg";
    case Format::azure_vnet: return "azure-vnet";
    case Format::unknown: break;
  }
  return "unknown";
}
const char* to_string(LogStatus v) {
  switch (v) {
    case LogStatus::ok: return "OK";
    case LogStatus::nodata: return "NODATA";
    case LogStatus::skipdata: return "SKIPDATA";
  }
  return "OK";
}
const char* to_string(Action v) {
  switch (v) {
    case Action::accept: return "ACCEPT";
    case Action::reject: return "REJECT";
    case Action::unknown: break;
  }
  return "";
}
const char* to_string(Direction v) {
  switch (v) {
    case Direction::ingress: return "ingress";
    case Direction::egress: return "egress";
    case Direction::unknown: break;
  }
  return "";
}
const char* to_string(Reporter v) {
  switch (v) {
    case Reporter::src: return "SRC";
    case Reporter::dest: return "DEST";
    case Reporter::src_gateway: return "SRC_GATEWAY";
    case Reporter::dest_gateway: return "DEST_GATEWAY";
    case Reporter::unknown: break;
  }
  return "";
}
const char* to_string(FlowState v) {
  switch (v) {
    case FlowState::begin: return "B";
    case FlowState::continuing: return "C";
    case FlowState::end: return "E";
    case FlowState::denied: return "D";
    case FlowState::unknown: break;
  }
  return "";
}
const char* to_string(TrafficType v) {
  switch (v) {
    case TrafficType::ipv4: return "IPv4";
    case TrafficType::ipv6: return "IPv6";
    case TrafficType::efa: return "EFA";
    case TrafficType::unknown: break;
  }
  return "";
}

void FlowRecord::add_extra(std::string_view name, std::string_view value) {
  if (!extra.empty()) extra.push_back(',');
  append_json_string(extra, name);
  extra.push_back(':');
  append_json_string(extra, value);
}

void FlowRecord::reset() {
  std::string keep = std::move(extra);
  keep.clear();
  *this = FlowRecord{};
  extra = std::move(keep);
}

}  // namespace flowlier::pipeline
