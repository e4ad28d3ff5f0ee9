#pragma once
// The one normalized flow value type that every decoder produces.
//
// Optional fields are tracked in `present` (a bit per Field) instead of sentinel
// values, so "-" in an AWS record, a missing GCP key and an empty Azure counter all
// read the same: absent. Times are Unix nanoseconds (GCP carries nanoseconds).
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/IpAddress.hpp"
#include "pipeline/Symbol.hpp"

namespace flowlier::pipeline {

enum class Format : std::uint8_t { unknown, aws_vpc, gcp_vpc, azure_nsg, azure_vnet };
enum class LogStatus : std::uint8_t { ok, nodata, skipdata };
enum class Action : std::uint8_t { unknown, accept, reject };
enum class Direction : std::uint8_t { unknown, ingress, egress };
enum class Reporter : std::uint8_t { unknown, src, dest, src_gateway, dest_gateway };
// Azure flow state: B begin, C continuing, E end, D denied (VNet flow logs).
enum class FlowState : std::uint8_t { unknown, begin, continuing, end, denied };
enum class TrafficType : std::uint8_t { unknown, ipv4, ipv6, efa };

// One bit per optional field in FlowRecord::present.
enum class Field : std::uint32_t {
  start = 1u << 0,
  end = 1u << 1,
  srcaddr = 1u << 2,
  dstaddr = 1u << 3,
  srcport = 1u << 4,
  dstport = 1u << 5,
  protocol = 1u << 6,
  packets = 1u << 7,
  bytes = 1u << 8,
  packets_reverse = 1u << 9,
  bytes_reverse = 1u << 10,
  pkt_srcaddr = 1u << 11,
  pkt_dstaddr = 1u << 12,
  tcp_flags = 1u << 13,
  traffic_path = 1u << 14,
  version = 1u << 15,
  rtt = 1u << 16,
};

const char* to_string(Format);
const char* to_string(LogStatus);
const char* to_string(Action);
const char* to_string(Direction);
const char* to_string(Reporter);
const char* to_string(FlowState);
const char* to_string(TrafficType);

struct FlowRecord {
  std::uint32_t present = 0;  // Field bits
  Format format = Format::unknown;
  std::uint8_t version = 0;  // AWS format version, GCP/Azure schema version where given
  LogStatus status = LogStatus::ok;
  Action action = Action::unknown;
  Direction direction = Direction::unknown;
  Reporter reporter = Reporter::unknown;
  FlowState flow_state = FlowState::unknown;
  TrafficType traffic_type = TrafficType::unknown;
  std::uint8_t protocol = 0;      // IANA number
  std::uint8_t traffic_path = 0;  // AWS egress path code 1-8
  std::uint16_t tcp_flags = 0;
  std::uint16_t srcport = 0;
  std::uint16_t dstport = 0;

  std::int64_t start_ns = 0;  // first packet (AWS start, GCP start_time, Azure tuple time)
  std::int64_t end_ns = 0;    // last packet

  IpAddress srcaddr;
  IpAddress dstaddr;
  IpAddress pkt_srcaddr;
  IpAddress pkt_dstaddr;

  // Counters in the record's own direction (AWS: the record; Azure: src->dst / sent).
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  // The opposite direction where the format reports both (Azure dst->src / received).
  std::uint64_t packets_reverse = 0;
  std::uint64_t bytes_reverse = 0;

  // GCP samples flows: multiply volumes by 1/sampling_rate to estimate totals.
  double sampling_rate = 1.0;
  std::uint32_t rtt_ms = 0;  // GCP rtt_msec

  Symbol account_id;  // AWS account, GCP project, Azure subscription
  Symbol interface_id;  // AWS ENI, Azure MAC, GCP vm name of the reporting side
  Symbol instance_id;
  Symbol vpc_id;
  Symbol subnet_id;
  Symbol region;
  Symbol az_id;
  Symbol pkt_src_aws_service;
  Symbol pkt_dst_aws_service;
  Symbol rule;  // Azure rule name, AWS reject-reason

  // Fields the value type has no slot for (sublocation, ECS metadata, encryption,
  // unknown AWS field names, ...), kept as a JSON object body: "k":"v","k2":"v2".
  std::string extra;

  // Where the record came from: an index into the reader's source table and the
  // 1-based line (or record ordinal inside a JSON document).
  std::uint32_t source_index = 0;
  std::uint64_t source_line = 0;

  bool has(Field f) const { return (present & static_cast<std::uint32_t>(f)) != 0; }
  void set(Field f) { present |= static_cast<std::uint32_t>(f); }
  bool is_traffic() const { return status == LogStatus::ok; }

  // Appends one "name":"value" pair to `extra`, escaping the value for JSON.
  void add_extra(std::string_view name, std::string_view value);

  // Returns to the default-constructed state, keeping `extra`'s capacity.
  void reset();
};

}  // namespace flowlier::pipeline
