#include "pipeline/formats/AwsFields.hpp"

#include <array>
#include <limits>

namespace flowlier::pipeline::formats {

namespace {

struct Entry {
  std::string_view name;
  int since;
};

// Indexed by AwsField. Versions from the AWS flow log record reference; resource-id
// and encryption-status are newer than 8 (exact version unverified: 0 here).
constexpr std::array<Entry, kAwsFieldCount> kTable{{
    {"", 0},
    {"version", 2},
    {"account-id", 2},
    {"interface-id", 2},
    {"srcaddr", 2},
    {"dstaddr", 2},
    {"srcport", 2},
    {"dstport", 2},
    {"protocol", 2},
    {"packets", 2},
    {"bytes", 2},
    {"start", 2},
    {"end", 2},
    {"action", 2},
    {"log-status", 2},
    {"vpc-id", 3},
    {"subnet-id", 3},
    {"instance-id", 3},
    {"tcp-flags", 3},
    {"type", 3},
    {"pkt-srcaddr", 3},
    {"pkt-dstaddr", 3},
    {"region", 4},
    {"az-id", 4},
    {"sublocation-type", 4},
    {"sublocation-id", 4},
    {"pkt-src-aws-service", 5},
    {"pkt-dst-aws-service", 5},
    {"flow-direction", 5},
    {"traffic-path", 5},
    {"ecs-cluster-arn", 7},
    {"ecs-cluster-name", 7},
    {"ecs-container-instance-arn", 7},
    {"ecs-container-instance-id", 7},
    {"ecs-container-id", 7},
    {"ecs-second-container-id", 7},
    {"ecs-service-name", 7},
    {"ecs-task-definition-arn", 7},
    {"ecs-task-arn", 7},
    {"ecs-task-id", 7},
    {"reject-reason", 8},
    {"resource-id", 0},
    {"encryption-status", 0},
}};

// Unsigned decimal without sign, spaces or leading '+'; false on overflow.
inline bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t value = 0;
  for (const char ch : text) {
    const auto digit = static_cast<unsigned>(static_cast<unsigned char>(ch) - '0');
    if (digit > 9) return false;
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

// Parses a number no larger than `max`; `out` is meaningful only when true.
inline bool parse_bounded(std::string_view text, std::uint64_t max, std::uint64_t& out) {
  return parse_u64(text, out) && out <= max;
}

inline bool is_digits(std::string_view text) {
  if (text.empty()) return false;
  for (const char ch : text) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

constexpr std::uint64_t kMaxSeconds = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 1'000'000'000;

}  // namespace

std::string_view aws_field_name(AwsField field) { return kTable[static_cast<std::size_t>(field)].name; }

int aws_field_since_version(AwsField field) { return kTable[static_cast<std::size_t>(field)].since; }

AwsField find_aws_field(std::string_view name) {
  for (std::size_t i = 1; i < kTable.size(); ++i) {
    if (kTable[i].name == name) return static_cast<AwsField>(i);
  }
  return AwsField::unknown;
}

AwsFormat AwsFormat::default_v2() {
  AwsFormat format;
  for (std::size_t i = static_cast<std::size_t>(AwsField::version); i <= static_cast<std::size_t>(AwsField::log_status);
       ++i) {
    format.columns_.push_back(AwsColumn{static_cast<AwsField>(i), std::string(kTable[i].name)});
  }
  return format;
}

std::string AwsFormat::parse(std::string_view text, AwsFormat& out) {
  AwsFormat format;
  auto add = [&format](std::string_view name) -> std::string {
    for (const AwsColumn& column : format.columns_) {
      if (column.name == name) return "field '" + std::string(name) + "' is repeated";
    }
    format.columns_.push_back(AwsColumn{find_aws_field(name), std::string(name)});
    return {};
  };
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t' && text[end] != '\r' && text[end] != '\n') ++end;
    std::string_view token = text.substr(i, end - i);
    i = end;
    if (token.front() != '$') {
      if (auto error = add(token); !error.empty()) return error;
      continue;
    }
    // One or more ${name} in a row.
    while (!token.empty()) {
      const auto close = token.find('}');
      if (token.size() < 3 || token[0] != '$' || token[1] != '{' || close == std::string_view::npos || close == 2) {
        return "malformed field reference '" + std::string(token) + "' (expected ${name})";
      }
      if (auto error = add(token.substr(2, close - 2)); !error.empty()) return error;
      token.remove_prefix(close + 1);
    }
  }
  if (format.columns_.empty()) return "the format names no fields";
  out = std::move(format);
  return {};
}

std::size_t AwsFormat::known_count() const {
  std::size_t n = 0;
  for (const AwsColumn& column : columns_) n += column.field != AwsField::unknown ? 1 : 0;
  return n;
}

bool AwsFormat::has(AwsField field) const {
  for (const AwsColumn& column : columns_) {
    if (column.field == field) return true;
  }
  return false;
}

std::optional<AwsFieldError> apply_aws_fields(std::span<const AwsColumn> columns,
                                              std::span<const std::string_view> values, FlowRecord& record) {
  record.format = Format::aws_vpc;
  std::size_t end_column = 0;
  std::uint64_t number = 0;
  const std::size_t n = columns.size() < values.size() ? columns.size() : values.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view v = values[i];
    if (v.size() == 1 && v[0] == '-') continue;  // "-": not applicable, in any field
    auto fail = [i](RejectReason reason, std::string_view what) { return AwsFieldError{i, reason, what}; };
    switch (columns[i].field) {
      case AwsField::version:
        if (!parse_u64(v, number)) return fail(RejectReason::bad_number, "is not an unsigned integer");
        if (number > 255) return fail(RejectReason::bad_number, "is not a format version");
        record.version = static_cast<std::uint8_t>(number);
        record.set(Field::version);
        break;
      case AwsField::account_id: record.account_id.assign(v); break;
      case AwsField::interface_id: record.interface_id.assign(v); break;
      case AwsField::srcaddr:
      case AwsField::dstaddr:
      case AwsField::pkt_srcaddr:
      case AwsField::pkt_dstaddr: {
        const auto address = IpAddress::parse(v);
        if (!address) return fail(RejectReason::bad_address, "is not an IP address");
        switch (columns[i].field) {
          case AwsField::srcaddr: record.srcaddr = *address; record.set(Field::srcaddr); break;
          case AwsField::dstaddr: record.dstaddr = *address; record.set(Field::dstaddr); break;
          case AwsField::pkt_srcaddr: record.pkt_srcaddr = *address; record.set(Field::pkt_srcaddr); break;
          default: record.pkt_dstaddr = *address; record.set(Field::pkt_dstaddr); break;
        }
        break;
      }
      case AwsField::srcport:
        if (!parse_bounded(v, 65535, number)) return fail(RejectReason::bad_port, "is not a port");
        record.srcport = static_cast<std::uint16_t>(number);
        record.set(Field::srcport);
        break;
      case AwsField::dstport:
        if (!parse_bounded(v, 65535, number)) return fail(RejectReason::bad_port, "is not a port");
        record.dstport = static_cast<std::uint16_t>(number);
        record.set(Field::dstport);
        break;
      case AwsField::protocol:
        if (!parse_bounded(v, 255, number)) return fail(RejectReason::bad_protocol, "is not a protocol number");
        record.protocol = static_cast<std::uint8_t>(number);
        record.set(Field::protocol);
        break;
      case AwsField::packets:
        if (!parse_u64(v, record.packets)) return fail(RejectReason::bad_number, "is not an unsigned integer");
        record.set(Field::packets);
        break;
      case AwsField::bytes:
        if (!parse_u64(v, record.bytes)) return fail(RejectReason::bad_number, "is not an unsigned integer");
        record.set(Field::bytes);
        break;
      case AwsField::start:
      case AwsField::end: {
        if (!parse_u64(v, number)) {
          return is_digits(v) ? fail(RejectReason::bad_time, "is not a Unix time in seconds")
                              : fail(RejectReason::bad_number, "is not an unsigned integer");
        }
        if (number > kMaxSeconds) return fail(RejectReason::bad_time, "is not a Unix time in seconds");
        const auto ns = static_cast<std::int64_t>(number) * 1'000'000'000;
        if (columns[i].field == AwsField::start) {
          record.start_ns = ns;
          record.set(Field::start);
        } else {
          record.end_ns = ns;
          record.set(Field::end);
          end_column = i;
        }
        break;
      }
      case AwsField::action:
        if (v == "ACCEPT") {
          record.action = Action::accept;
        } else if (v == "REJECT") {
          record.action = Action::reject;
        } else {
          return fail(RejectReason::bad_value, "is not ACCEPT or REJECT");
        }
        break;
      case AwsField::log_status:
        if (v == "OK") {
          record.status = LogStatus::ok;
        } else if (v == "NODATA") {
          record.status = LogStatus::nodata;
        } else if (v == "SKIPDATA") {
          record.status = LogStatus::skipdata;
        } else {
          return fail(RejectReason::bad_value, "is not OK, NODATA or SKIPDATA");
        }
        break;
      case AwsField::vpc_id: record.vpc_id.assign(v); break;
      case AwsField::subnet_id: record.subnet_id.assign(v); break;
      case AwsField::instance_id: record.instance_id.assign(v); break;
      case AwsField::tcp_flags:
        if (!parse_u64(v, number)) return fail(RejectReason::bad_number, "is not an unsigned integer");
        if (number > 0xffff) return fail(RejectReason::bad_value, "is not a TCP flag mask");
        record.tcp_flags = static_cast<std::uint16_t>(number);
        record.set(Field::tcp_flags);
        break;
      case AwsField::type:
        if (v == "IPv4") {
          record.traffic_type = TrafficType::ipv4;
        } else if (v == "IPv6") {
          record.traffic_type = TrafficType::ipv6;
        } else if (v == "EFA") {
          record.traffic_type = TrafficType::efa;
        } else {
          return fail(RejectReason::bad_value, "is not IPv4, IPv6 or EFA");
        }
        break;
      case AwsField::region: record.region.assign(v); break;
      case AwsField::az_id: record.az_id.assign(v); break;
      case AwsField::pkt_src_aws_service: record.pkt_src_aws_service.assign(v); break;
      case AwsField::pkt_dst_aws_service: record.pkt_dst_aws_service.assign(v); break;
      case AwsField::flow_direction:
        if (v == "ingress") {
          record.direction = Direction::ingress;
        } else if (v == "egress") {
          record.direction = Direction::egress;
        } else {
          return fail(RejectReason::bad_value, "is not ingress or egress");
        }
        break;
      case AwsField::traffic_path:
        // Codes 1-8 are documented; newer codes are kept rather than refused.
        if (!parse_u64(v, number)) return fail(RejectReason::bad_number, "is not an unsigned integer");
        if (number > 255) return fail(RejectReason::bad_value, "is not a traffic path code");
        record.traffic_path = static_cast<std::uint8_t>(number);
        record.set(Field::traffic_path);
        break;
      case AwsField::reject_reason: record.rule.assign(v); break;
      case AwsField::sublocation_type:
      case AwsField::sublocation_id:
      case AwsField::ecs_cluster_arn:
      case AwsField::ecs_cluster_name:
      case AwsField::ecs_container_instance_arn:
      case AwsField::ecs_container_instance_id:
      case AwsField::ecs_container_id:
      case AwsField::ecs_second_container_id:
      case AwsField::ecs_service_name:
      case AwsField::ecs_task_definition_arn:
      case AwsField::ecs_task_arn:
      case AwsField::ecs_task_id:
      case AwsField::resource_id:
      case AwsField::encryption_status:
      case AwsField::unknown: record.add_extra(columns[i].name, v); break;
    }
  }
  if (record.has(Field::start) && record.has(Field::end) && record.end_ns < record.start_ns) {
    return AwsFieldError{end_column, RejectReason::bad_time, "is before start"};
  }
  return std::nullopt;
}

}  // namespace flowlier::pipeline::formats
