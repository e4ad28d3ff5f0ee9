#include "pipeline/formats/AwsFields.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
  if (text.size() <= 19) {  // cannot overflow: skip the per-digit check
    for (const char ch : text) {
      const auto digit = static_cast<unsigned>(static_cast<unsigned char>(ch) - '0');
      if (digit > 9) return false;
      value = value * 10 + digit;
    }
    out = value;
    return true;
  }
  for (const char ch : text) {
    const auto digit = static_cast<unsigned>(static_cast<unsigned char>(ch) - '0');
    if (digit > 9) return false;
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

#if defined(__SSE2__)
// Dotted-quad IPv4 of 7-15 bytes with 18 bytes readable at p, without a branch per
// digit: dots and digits are found with one compare each, octets are weighted sums.
// False when the text is not exactly a.b.c.d with 1-3 digit octets up to 255.
inline bool parse_v4_sse(const char* p, std::size_t len, std::uint32_t& out) {
  if (len < 7 || len > 15) return false;
  const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const unsigned in = (1u << len) - 1;
  const unsigned dots = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('.')))) & in;
  const __m128i values = _mm_sub_epi8(chunk, _mm_set1_epi8('0'));
  const unsigned digits =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values))) & in;
  const unsigned r1 = dots & (dots - 1);
  const unsigned r2 = r1 & (r1 - 1);
  // Exactly three dots (std::popcount would be a libgcc call without -mpopcnt).
  if ((dots | digits) != in || r2 == 0 || (r2 & (r2 - 1)) != 0) return false;
  const auto d1 = static_cast<unsigned>(std::countr_zero(dots));
  const auto d2 = static_cast<unsigned>(std::countr_zero(r1));
  const auto d3 = static_cast<unsigned>(std::countr_zero(r2));
  const unsigned l0 = d1, l1 = d2 - d1 - 1, l2 = d3 - d2 - 1, l3 = static_cast<unsigned>(len) - d3 - 1;
  if ((l0 - 1) > 2 || (l1 - 1) > 2 || (l2 - 1) > 2 || (l3 - 1) > 2) return false;  // 1-3 digits each
  // Each octet from a 4-byte load at its start: XOR turns digits into values (and does
  // not borrow into the next byte as subtraction would), the shift right-aligns 1-3
  // digits into the low three bytes as hundreds, tens and units.
  auto octet = [p](unsigned start, unsigned length) {
    std::uint32_t w;
    std::memcpy(&w, p + start, 4);
    if constexpr (std::endian::native != std::endian::little) w = __builtin_bswap32(w);
    w = ((w ^ 0x30303030u) << ((3 - length) * 8)) & 0x00FFFFFFu;
    return (w & 0xFFu) * 100 + ((w >> 8) & 0xFFu) * 10 + (w >> 16);
  };
  const std::uint32_t o0 = octet(0, l0), o1 = octet(d1 + 1, l1), o2 = octet(d2 + 1, l2), o3 = octet(d3 + 1, l3);
  if ((o0 | o1 | o2 | o3) > 255) return false;
  out = (o0 << 24) | (o1 << 16) | (o2 << 8) | o3;
  return true;
}
#endif

// Dotted-quad IPv4, the common case, parsed inline into `out`; anything else (IPv6,
// or text that is not a valid address) goes through IpAddress::parse.
[[gnu::always_inline]] inline bool parse_address(std::string_view text, const char* readable_end, IpAddress& out) {
#if defined(__SSE2__)
  if (readable_end != nullptr && readable_end - text.data() >= 18) {
    std::uint32_t v4 = 0;
    if (parse_v4_sse(text.data(), text.size(), v4)) {
      out = IpAddress::from_v4(v4);
      return true;
    }
  }
#endif
  const char* p = text.data();
  const char* const end = p + text.size();
  std::uint32_t address = 0;
  for (int octet = 0; octet < 4; ++octet) {
    std::uint32_t value = 0;
    const char* const digits = p;
    while (p < end && p - digits < 3) {
      const auto digit = static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
      if (digit > 9) break;
      value = value * 10 + digit;
      ++p;
    }
    if (p == digits || value > 255) goto slow;
    address = (address << 8) | value;
    if (octet < 3) {
      if (p == end || *p != '.') goto slow;
      ++p;
    }
  }
  if (p != end) goto slow;
  out = IpAddress::from_v4(address);
  return true;
slow:
  if (auto parsed = IpAddress::parse(text)) {
    out = *parsed;
    return true;
  }
  return false;
}

// Eight ASCII digits, first digit in the lowest byte, to their value (no validation).
[[gnu::always_inline]] inline std::uint64_t eight_digits(std::uint64_t chunk) {
  chunk = ((chunk & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
  chunk = ((chunk & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
  return ((chunk & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
}

[[gnu::always_inline]] inline bool all_digits(std::uint64_t chunk) {
  return ((chunk & 0xF0F0F0F0F0F0F0F0ULL) | (((chunk + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) ==
         0x3333333333333333ULL;
}

// Loads the `len` (1-8) bytes at p as eight digits with leading '0's, reading 8 bytes
// from p (the caller guarantees they are readable).
[[gnu::always_inline]] inline std::uint64_t load_digits(const char* p, std::size_t len) {
  std::uint64_t chunk;
  std::memcpy(&chunk, p, 8);
  if constexpr (std::endian::native != std::endian::little) chunk = __builtin_bswap64(chunk);
  if (len == 8) return chunk;
  const unsigned shift = static_cast<unsigned>(8 - len) * 8;
  return (chunk << shift) | (0x3030303030303030ULL >> (64 - shift));
}

// Numbers of up to 16 digits are read eight bytes at a time when the bytes after the
// token are readable (it is not the last one of its buffer): no loop whose exit
// depends on the digit count, which a byte loop mispredicts on nearly every field.
[[gnu::always_inline]] inline bool parse_number(std::string_view text, const char* readable_end, std::uint64_t& out) {
  const std::size_t len = text.size();
  const char* p = text.data();
  if (len == 0 || len > 16 || readable_end == nullptr || readable_end - p < 8 ||
      (len > 8 && readable_end - (p + len - 8) < 8)) {
    return parse_u64(text, out);
  }
  if (len <= 8) {
    const std::uint64_t chunk = load_digits(p, len);
    if (!all_digits(chunk)) return false;
    out = eight_digits(chunk);
    return true;
  }
  const std::uint64_t high = load_digits(p, len - 8);
  std::uint64_t low;
  std::memcpy(&low, p + len - 8, 8);
  if constexpr (std::endian::native != std::endian::little) low = __builtin_bswap64(low);
  if (!all_digits(high) || !all_digits(low)) return false;
  out = eight_digits(high) * 100000000ULL + eight_digits(low);
  return true;
}

// Parses a number no larger than `max`; `out` is meaningful only when true.
[[gnu::always_inline]] inline bool parse_bounded(std::string_view text, const char* readable_end, std::uint64_t max,
                                                 std::uint64_t& out) {
  return parse_number(text, readable_end, out) && out <= max;
}

inline bool is_digits(std::string_view text) {
  if (text.empty()) return false;
  for (const char ch : text) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

// Compares with a literal using two overlapping 4-byte loads (GCC 12 calls memcmp for
// std::string_view == and for memcmp of 6 or 8 bytes).
template <std::size_t N>
[[gnu::always_inline]] inline bool equals(std::string_view v, const char (&word)[N]) {
  constexpr std::size_t n = N - 1;
  if (v.size() != n) return false;
  if constexpr (n >= 4 && n <= 8) {
    std::uint32_t a, b, c, d;
    std::memcpy(&a, v.data(), 4);
    std::memcpy(&b, word, 4);
    std::memcpy(&c, v.data() + n - 4, 4);
    std::memcpy(&d, word + n - 4, 4);
    return ((a ^ b) | (c ^ d)) == 0;
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      if (v[i] != word[i]) return false;
    }
    return true;
  }
}

inline bool fail(AwsFieldError& error, std::size_t column, RejectReason reason, std::string_view what) {
  error = AwsFieldError{column, reason, what};
  return false;
}

constexpr std::uint64_t kMaxSeconds =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 1'000'000'000;

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
  format.classify();
  return format;
}

void AwsFormat::classify() {
  default_v2_ = columns_.size() == 14;
  for (std::size_t i = 0; default_v2_ && i < columns_.size(); ++i) {
    default_v2_ = columns_[i].field == static_cast<AwsField>(i + 1);
  }
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
  format.classify();
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

namespace {

// Undoes what apply_one(field, ...) may have stored; inlined like apply_one.
[[gnu::always_inline]] inline void clear_one(AwsField field, FlowRecord& record) {
  switch (field) {
    case AwsField::version: record.version = 0; break;
    case AwsField::account_id: record.account_id.clear(); break;
    case AwsField::interface_id: record.interface_id.clear(); break;
    case AwsField::srcaddr: record.srcaddr = IpAddress{}; break;
    case AwsField::dstaddr: record.dstaddr = IpAddress{}; break;
    case AwsField::pkt_srcaddr: record.pkt_srcaddr = IpAddress{}; break;
    case AwsField::pkt_dstaddr: record.pkt_dstaddr = IpAddress{}; break;
    case AwsField::srcport: record.srcport = 0; break;
    case AwsField::dstport: record.dstport = 0; break;
    case AwsField::protocol: record.protocol = 0; break;
    case AwsField::packets: record.packets = 0; break;
    case AwsField::bytes: record.bytes = 0; break;
    case AwsField::start: record.start_ns = 0; break;
    case AwsField::end: record.end_ns = 0; break;
    case AwsField::action: record.action = Action::unknown; break;
    case AwsField::log_status: record.status = LogStatus::ok; break;
    case AwsField::vpc_id: record.vpc_id.clear(); break;
    case AwsField::subnet_id: record.subnet_id.clear(); break;
    case AwsField::instance_id: record.instance_id.clear(); break;
    case AwsField::tcp_flags: record.tcp_flags = 0; break;
    case AwsField::type: record.traffic_type = TrafficType::unknown; break;
    case AwsField::region: record.region.clear(); break;
    case AwsField::az_id: record.az_id.clear(); break;
    case AwsField::pkt_src_aws_service: record.pkt_src_aws_service.clear(); break;
    case AwsField::pkt_dst_aws_service: record.pkt_dst_aws_service.clear(); break;
    case AwsField::flow_direction: record.direction = Direction::unknown; break;
    case AwsField::traffic_path: record.traffic_path = 0; break;
    case AwsField::reject_reason: record.rule.clear(); break;
    default: break;  // extra fields: cleared with `extra`
  }
}

// Stores one value. Always inlined: with a constant `field` (the default-format path)
// the switch folds away, leaving straight-line code with no indirect branch.
[[gnu::always_inline]] inline bool apply_one(AwsField field, const AwsColumn& column, std::string_view v,
                                             const char* readable_end, std::size_t i, FlowRecord& record,
                                             AwsFieldError& error) {
  if (v.size() == 1 && v[0] == '-') {  // "-": not applicable, in any field
    clear_one(field, record);          // the slot may hold the previous record's value
    return true;
  }
  std::uint64_t number = 0;
  switch (field) {
    case AwsField::version:
      if (!parse_number(v, readable_end, number))
        return fail(error, i, RejectReason::bad_number, "is not an unsigned integer");
      if (number > 255) return fail(error, i, RejectReason::bad_number, "is not a format version");
      record.version = static_cast<std::uint8_t>(number);
      record.set(Field::version);
      break;
    case AwsField::account_id: record.account_id.assign(v); break;
    case AwsField::interface_id: record.interface_id.assign(v); break;
    case AwsField::srcaddr:
    case AwsField::dstaddr:
    case AwsField::pkt_srcaddr:
    case AwsField::pkt_dstaddr: {
      IpAddress* slot = &record.pkt_dstaddr;
      Field bit = Field::pkt_dstaddr;
      switch (field) {
        case AwsField::srcaddr:
          slot = &record.srcaddr;
          bit = Field::srcaddr;
          break;
        case AwsField::dstaddr:
          slot = &record.dstaddr;
          bit = Field::dstaddr;
          break;
        case AwsField::pkt_srcaddr:
          slot = &record.pkt_srcaddr;
          bit = Field::pkt_srcaddr;
          break;
        default: break;
      }
      if (!parse_address(v, readable_end, *slot))
        return fail(error, i, RejectReason::bad_address, "is not an IP address");
      record.set(bit);
      break;
    }
    case AwsField::srcport:
      if (!parse_bounded(v, readable_end, 65535, number))
        return fail(error, i, RejectReason::bad_port, "is not a port");
      record.srcport = static_cast<std::uint16_t>(number);
      record.set(Field::srcport);
      break;
    case AwsField::dstport:
      if (!parse_bounded(v, readable_end, 65535, number))
        return fail(error, i, RejectReason::bad_port, "is not a port");
      record.dstport = static_cast<std::uint16_t>(number);
      record.set(Field::dstport);
      break;
    case AwsField::protocol:
      if (!parse_bounded(v, readable_end, 255, number))
        return fail(error, i, RejectReason::bad_protocol, "is not a protocol number");
      record.protocol = static_cast<std::uint8_t>(number);
      record.set(Field::protocol);
      break;
    case AwsField::packets:
      if (!parse_number(v, readable_end, record.packets))
        return fail(error, i, RejectReason::bad_number, "is not an unsigned integer");
      record.set(Field::packets);
      break;
    case AwsField::bytes:
      if (!parse_number(v, readable_end, record.bytes))
        return fail(error, i, RejectReason::bad_number, "is not an unsigned integer");
      record.set(Field::bytes);
      break;
    case AwsField::start:
    case AwsField::end: {
      if (!parse_number(v, readable_end, number)) {
        return is_digits(v) ? fail(error, i, RejectReason::bad_time, "is not a Unix time in seconds")
                            : fail(error, i, RejectReason::bad_number, "is not an unsigned integer");
      }
      if (number > kMaxSeconds) return fail(error, i, RejectReason::bad_time, "is not a Unix time in seconds");
      const auto ns = static_cast<std::int64_t>(number) * 1'000'000'000;
      if (field == AwsField::start) {
        record.start_ns = ns;
        record.set(Field::start);
      } else {
        record.end_ns = ns;
        record.set(Field::end);
      }
      break;
    }
    case AwsField::action:
      if (equals(v, "ACCEPT")) {
        record.action = Action::accept;
      } else if (equals(v, "REJECT")) {
        record.action = Action::reject;
      } else {
        return fail(error, i, RejectReason::bad_value, "is not ACCEPT or REJECT");
      }
      break;
    case AwsField::log_status:
      if (equals(v, "OK")) {
        record.status = LogStatus::ok;
      } else if (equals(v, "NODATA")) {
        record.status = LogStatus::nodata;
      } else if (equals(v, "SKIPDATA")) {
        record.status = LogStatus::skipdata;
      } else {
        return fail(error, i, RejectReason::bad_value, "is not OK, NODATA or SKIPDATA");
      }
      break;
    case AwsField::vpc_id: record.vpc_id.assign(v); break;
    case AwsField::subnet_id: record.subnet_id.assign(v); break;
    case AwsField::instance_id: record.instance_id.assign(v); break;
    case AwsField::tcp_flags:
      if (!parse_number(v, readable_end, number))
        return fail(error, i, RejectReason::bad_number, "is not an unsigned integer");
      if (number > 0xffff) return fail(error, i, RejectReason::bad_value, "is not a TCP flag mask");
      record.tcp_flags = static_cast<std::uint16_t>(number);
      record.set(Field::tcp_flags);
      break;
    case AwsField::type:
      if (equals(v, "IPv4")) {
        record.traffic_type = TrafficType::ipv4;
      } else if (equals(v, "IPv6")) {
        record.traffic_type = TrafficType::ipv6;
      } else if (equals(v, "EFA")) {
        record.traffic_type = TrafficType::efa;
      } else {
        return fail(error, i, RejectReason::bad_value, "is not IPv4, IPv6 or EFA");
      }
      break;
    case AwsField::region: record.region.assign(v); break;
    case AwsField::az_id: record.az_id.assign(v); break;
    case AwsField::pkt_src_aws_service: record.pkt_src_aws_service.assign(v); break;
    case AwsField::pkt_dst_aws_service: record.pkt_dst_aws_service.assign(v); break;
    case AwsField::flow_direction:
      if (equals(v, "ingress")) {
        record.direction = Direction::ingress;
      } else if (equals(v, "egress")) {
        record.direction = Direction::egress;
      } else {
        return fail(error, i, RejectReason::bad_value, "is not ingress or egress");
      }
      break;
    case AwsField::traffic_path:
      // Codes 1-8 are documented; newer codes are kept rather than refused.
      if (!parse_number(v, readable_end, number))
        return fail(error, i, RejectReason::bad_number, "is not an unsigned integer");
      if (number > 255) return fail(error, i, RejectReason::bad_value, "is not a traffic path code");
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
    case AwsField::unknown: record.add_extra(column.name, v); break;
  }
  return true;
}

bool check_times(const AwsFormat& format, FlowRecord& record, AwsFieldError& error) {
  if (record.has(Field::start) && record.has(Field::end) && record.end_ns < record.start_ns) {
    std::size_t end_column = 0;
    for (std::size_t i = 0; i < format.size(); ++i) {
      if (format.columns()[i].field == AwsField::end) end_column = i;
    }
    error = AwsFieldError{end_column, RejectReason::bad_time, "is before start"};
    return false;
  }
  return true;
}

}  // namespace

std::optional<AwsFieldError> apply_aws_fields(const AwsFormat& format, std::span<const std::string_view> values,
                                              const char* readable_end, FlowRecord& record) {
  record.format = Format::aws_vpc;
  record.present = 0;
  record.extra.clear();
  AwsFieldError error;
  const auto& columns = format.columns();
  if (format.is_default_v2() && values.size() == 14) {
    const std::string_view* v = values.data();
    const AwsColumn* c = columns.data();
    const bool ok = apply_one(AwsField::version, c[0], v[0], readable_end, 0, record, error) &&
                    apply_one(AwsField::account_id, c[1], v[1], readable_end, 1, record, error) &&
                    apply_one(AwsField::interface_id, c[2], v[2], readable_end, 2, record, error) &&
                    apply_one(AwsField::srcaddr, c[3], v[3], readable_end, 3, record, error) &&
                    apply_one(AwsField::dstaddr, c[4], v[4], readable_end, 4, record, error) &&
                    apply_one(AwsField::srcport, c[5], v[5], readable_end, 5, record, error) &&
                    apply_one(AwsField::dstport, c[6], v[6], readable_end, 6, record, error) &&
                    apply_one(AwsField::protocol, c[7], v[7], readable_end, 7, record, error) &&
                    apply_one(AwsField::packets, c[8], v[8], readable_end, 8, record, error) &&
                    apply_one(AwsField::bytes, c[9], v[9], readable_end, 9, record, error) &&
                    apply_one(AwsField::start, c[10], v[10], readable_end, 10, record, error) &&
                    apply_one(AwsField::end, c[11], v[11], readable_end, 11, record, error) &&
                    apply_one(AwsField::action, c[12], v[12], readable_end, 12, record, error) &&
                    apply_one(AwsField::log_status, c[13], v[13], readable_end, 13, record, error);
    if (!ok) return error;
  } else {
    const std::size_t n = columns.size() < values.size() ? columns.size() : values.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (!apply_one(columns[i].field, columns[i], values[i], readable_end, i, record, error)) return error;
    }
  }
  if (!check_times(format, record, error)) return error;
  return std::nullopt;
}

}  // namespace flowlier::pipeline::formats
