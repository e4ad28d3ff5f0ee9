#include "pipeline/formats/AzureDecoder.hpp"

#include <array>
#include <limits>

#include "pipeline/formats/JsonDom.hpp"

namespace flowlier::pipeline {

std::unique_ptr<Decoder> make_azure_nsg_decoder(const DecoderOptions& options) {
  return std::make_unique<formats::AzureDecoder>(Format::azure_nsg, options);
}

std::unique_ptr<Decoder> make_azure_vnet_decoder(const DecoderOptions& options) {
  return std::make_unique<formats::AzureDecoder>(Format::azure_vnet, options);
}

namespace formats {

namespace {

using json::element;
using json::object;

constexpr std::size_t kMaxFields = 13;
using Fields = std::array<std::string_view, kMaxFields>;

constexpr std::array<std::string_view, kMaxFields> kNsgFieldNames{
    "timestamp", "srcIP",     "dstIP",          "srcPort",        "dstPort",        "protocol",      "direction",
    "decision",  "state",     "packets src->dst", "bytes src->dst", "packets dst->src", "bytes dst->src"};
constexpr std::array<std::string_view, kMaxFields> kVnetFieldNames{
    "timestamp", "srcIP",      "dstIP",        "srcPort",    "dstPort",          "protocol",      "direction",
    "state",     "encryption", "packets sent", "bytes sent", "packets received", "bytes received"};

// Splits on ','; returns the field count, or kMaxFields + 1 when there are more.
std::size_t split_fields(std::string_view tuple, Fields& out) {
  std::size_t n = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = tuple.find(',', start);
    if (n == kMaxFields) return kMaxFields + 1;
    out[n++] = tuple.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (comma == std::string_view::npos) return n;
    start = comma + 1;
  }
}

TupleError tuple_error(RejectReason reason, std::string_view field, std::string_view value, std::string_view what) {
  std::string message;
  message.append(field).append(" '").append(json::excerpt(value, 80)).append("' ").append(what);
  return {reason, std::move(message)};
}

// The fields both tuple kinds share: time, addresses, ports, protocol, direction.
std::optional<TupleError> parse_common(const Fields& f, const std::array<std::string_view, kMaxFields>& names,
                                       FlowRecord& out) {
  std::uint64_t ts = 0;
  // Seconds have 10 digits until 2286; 13 or more digits are milliseconds.
  if (!json::parse_unsigned(f[0], ts)) return tuple_error(RejectReason::bad_time, names[0], f[0], "is not a Unix time");
  const std::uint64_t scale = f[0].size() >= 13 ? 1'000'000u : 1'000'000'000u;
  if (ts > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / scale) {
    return tuple_error(RejectReason::bad_time, names[0], f[0], "is out of range");
  }
  out.start_ns = out.end_ns = static_cast<std::int64_t>(ts * scale);
  out.set(Field::start);
  out.set(Field::end);

  auto src = IpAddress::parse(f[1]);
  if (!src) return tuple_error(RejectReason::bad_address, names[1], f[1], "is not an IP address");
  auto dst = IpAddress::parse(f[2]);
  if (!dst) return tuple_error(RejectReason::bad_address, names[2], f[2], "is not an IP address");
  out.srcaddr = *src;
  out.dstaddr = *dst;
  out.set(Field::srcaddr);
  out.set(Field::dstaddr);

  for (int i : {3, 4}) {
    if (f[i].empty()) continue;  // no port (e.g. ICMP)
    std::uint64_t port = 0;
    if (!json::parse_unsigned(f[i], port) || port > 65535) {
      return tuple_error(RejectReason::bad_port, names[i], f[i], "is not a port in 0-65535");
    }
    if (i == 3) {
      out.srcport = static_cast<std::uint16_t>(port);
      out.set(Field::srcport);
    } else {
      out.dstport = static_cast<std::uint16_t>(port);
      out.set(Field::dstport);
    }
  }

  std::uint64_t protocol = 0;
  if (f[5] == "T") {
    protocol = 6;
  } else if (f[5] == "U") {
    protocol = 17;
  } else if (!json::parse_unsigned(f[5], protocol) || protocol > 255) {
    return tuple_error(RejectReason::bad_protocol, names[5], f[5], "is not T, U or an IANA protocol number");
  }
  out.protocol = static_cast<std::uint8_t>(protocol);
  out.set(Field::protocol);

  if (f[6] == "I") {
    out.direction = Direction::ingress;
  } else if (f[6] == "O") {
    out.direction = Direction::egress;
  } else {
    return tuple_error(RejectReason::bad_value, names[6], f[6], "is not I or O");
  }
  return std::nullopt;
}

// Fields 9-12: packets and bytes each way; empty fields stay absent.
std::optional<TupleError> parse_counters(const Fields& f, const std::array<std::string_view, kMaxFields>& names,
                                         FlowRecord& out) {
  struct Slot {
    std::uint64_t* value;
    Field bit;
  };
  const std::array<Slot, 4> slots{Slot{&out.packets, Field::packets}, Slot{&out.bytes, Field::bytes},
                                  Slot{&out.packets_reverse, Field::packets_reverse},
                                  Slot{&out.bytes_reverse, Field::bytes_reverse}};
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const std::string_view field = f[9 + k];
    if (field.empty()) continue;
    if (!json::parse_unsigned(field, *slots[k].value)) {
      return tuple_error(RejectReason::bad_number, names[9 + k], field, "is not an unsigned integer");
    }
    out.set(slots[k].bit);
  }
  return std::nullopt;
}

std::optional<FlowState> parse_state(std::string_view s, bool allow_denied) {
  if (s == "B") return FlowState::begin;
  if (s == "C") return FlowState::continuing;
  if (s == "E") return FlowState::end;
  if (s == "D" && allow_denied) return FlowState::denied;
  return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

std::string_view last_segment(std::string_view resource_id) {
  while (!resource_id.empty() && resource_id.back() == '/') resource_id.remove_suffix(1);
  const std::size_t slash = resource_id.rfind('/');
  return slash == std::string_view::npos ? resource_id : resource_id.substr(slash + 1);
}

}  // namespace

std::optional<TupleError> parse_nsg_flow_tuple(std::string_view tuple, FlowRecord& out) {
  Fields f;
  const std::size_t n = split_fields(tuple, f);
  if (n != 8 && n != 13) {
    return TupleError{RejectReason::wrong_field_count,
                      "NSG flow tuple has " + (n > kMaxFields ? std::string("more than 13") : std::to_string(n)) +
                          " fields; expected 8 (version 1) or 13 (version 2)"};
  }
  if (auto e = parse_common(f, kNsgFieldNames, out)) return e;
  if (f[7] == "A") {
    out.action = Action::accept;
  } else if (f[7] == "D") {
    out.action = Action::reject;
  } else {
    return tuple_error(RejectReason::bad_value, kNsgFieldNames[7], f[7], "is not A or D");
  }
  if (n == 8) return std::nullopt;
  auto state = parse_state(f[8], false);
  if (!state) return tuple_error(RejectReason::bad_value, kNsgFieldNames[8], f[8], "is not B, C or E");
  out.flow_state = *state;
  return parse_counters(f, kNsgFieldNames, out);
}

std::optional<TupleError> parse_vnet_flow_tuple(std::string_view tuple, FlowRecord& out) {
  Fields f;
  const std::size_t n = split_fields(tuple, f);
  if (n != 13) {
    return TupleError{RejectReason::wrong_field_count,
                      "VNet flow tuple has " + (n > kMaxFields ? std::string("more than 13") : std::to_string(n)) +
                          " fields; expected 13"};
  }
  if (auto e = parse_common(f, kVnetFieldNames, out)) return e;
  auto state = parse_state(f[7], true);
  if (!state) return tuple_error(RejectReason::bad_value, kVnetFieldNames[7], f[7], "is not B, C, E or D");
  out.flow_state = *state;
  out.action = *state == FlowState::denied ? Action::reject : Action::accept;
  if (auto e = parse_counters(f, kVnetFieldNames, out)) return e;
  if (!f[8].empty()) out.add_extra("encryption", f[8]);
  return std::nullopt;
}

std::string_view azure_resource_segment(std::string_view resource_id, std::string_view key) {
  std::size_t pos = 0;
  while (pos < resource_id.size()) {
    const std::size_t slash = resource_id.find('/', pos);
    const std::size_t end = slash == std::string_view::npos ? resource_id.size() : slash;
    if (iequals(resource_id.substr(pos, end - pos), key) && end < resource_id.size()) {
      const std::size_t next = resource_id.find('/', end + 1);
      return resource_id.substr(end + 1, next == std::string_view::npos ? std::string_view::npos : next - end - 1);
    }
    pos = end + 1;
  }
  return {};
}

struct AzureDecoder::Impl {
  explicit Impl(const DecoderOptions& o) : options(o) {}

  // What every tuple of the record (or rule group) shares.
  struct Context {
    Format format = Format::unknown;
    std::uint8_t version = 0;
    bool has_version = false;
    std::string_view mac;
    std::string_view rule;
    std::string_view account;
    std::string_view vpc;
    std::string_view subnet;
    std::string_view nsg;
    std::string_view acl_id;
  };

  void reject_shape(RejectReason reason, element value, std::string message) {
    const std::string raw = json::minified_excerpt(value);
    sink->on_reject(Reject{reason, tuples + 1, raw, message});
  }

  void decode_top(element value) {
    simdjson::dom::array items;
    if (value.get_array().get(items) == simdjson::SUCCESS) {
      for (element item : items) decode_record(item);
      return;
    }
    object obj;
    if (value.get_object().get(obj) != simdjson::SUCCESS) {
      reject_shape(RejectReason::invalid_json, value, "a top-level JSON value is not an object");
      return;
    }
    if (auto records = json::member(obj, "records")) {
      if (records->get_array().get(items) != simdjson::SUCCESS) {
        reject_shape(RejectReason::invalid_json, value, "records is not an array");
        return;
      }
      for (element item : items) decode_record(item);
      return;
    }
    decode_record(value);  // a bare record, as in one-record-per-line exports
  }

  void decode_record(element value) {
    object rec;
    if (value.get_object().get(rec) != simdjson::SUCCESS) {
      reject_shape(RejectReason::invalid_json, value, "a record is not an object");
      return;
    }
    if (auto flow_records = json::member_object(rec, "flowRecords")) {
      decode_vnet(value, rec, *flow_records);
    } else if (auto properties = json::member_object(rec, "properties")) {
      decode_nsg(value, rec, *properties);
    } else {
      reject_shape(RejectReason::missing_field, value,
                   "record has neither properties (NSG flow log) nor flowRecords (VNet flow log)");
    }
  }

  void read_version(object obj, std::string_view key, Context& ctx) {
    std::uint64_t v = 0;
    if (json::read_unsigned(obj, key, v) == json::NumberStatus::ok && v <= 255) {
      ctx.version = static_cast<std::uint8_t>(v);
      ctx.has_version = true;
    }
  }

  void decode_nsg(element value, object rec, object properties) {
    Context ctx;
    ctx.format = Format::azure_nsg;
    const std::string_view resource_id = json::member_string(rec, "resourceId");
    ctx.account = azure_resource_segment(resource_id, "SUBSCRIPTIONS");
    ctx.nsg = last_segment(resource_id);
    read_version(properties, "Version", ctx);
    auto groups = json::member_array(properties, "flows");
    if (!groups) {
      reject_shape(RejectReason::missing_field, value, "properties.flows is missing or not an array");
      return;
    }
    for (element group_value : *groups) {
      object group;
      if (group_value.get_object().get(group) != simdjson::SUCCESS) {
        reject_shape(RejectReason::invalid_json, group_value, "properties.flows[] entry is not an object");
        continue;
      }
      ctx.rule = json::member_string(group, "rule");
      auto macs = json::member_array(group, "flows");
      if (!macs) {
        reject_shape(RejectReason::missing_field, group_value, "properties.flows[].flows is missing or not an array");
        continue;
      }
      for (element mac_value : *macs) {
        object mac;
        if (mac_value.get_object().get(mac) != simdjson::SUCCESS) {
          reject_shape(RejectReason::invalid_json, mac_value, "properties.flows[].flows[] entry is not an object");
          continue;
        }
        ctx.mac = json::member_string(mac, "mac");
        decode_tuples(mac_value, mac, ctx, "properties.flows[].flows[].flowTuples");
      }
    }
  }

  void decode_vnet(element value, object rec, object flow_records) {
    Context ctx;
    ctx.format = Format::azure_vnet;
    ctx.mac = json::member_string(rec, "macAddress");
    const std::string_view target = json::member_string(rec, "targetResourceID");
    ctx.account = azure_resource_segment(json::member_string(rec, "flowLogResourceID"), "SUBSCRIPTIONS");
    if (ctx.account.empty()) ctx.account = azure_resource_segment(target, "SUBSCRIPTIONS");
    ctx.vpc = azure_resource_segment(target, "VIRTUALNETWORKS");
    ctx.subnet = azure_resource_segment(target, "SUBNETS");
    read_version(rec, "flowLogVersion", ctx);
    auto flows = json::member_array(flow_records, "flows");
    if (!flows) {
      reject_shape(RejectReason::missing_field, value, "flowRecords.flows is missing or not an array");
      return;
    }
    for (element flow_value : *flows) {
      object flow;
      if (flow_value.get_object().get(flow) != simdjson::SUCCESS) {
        reject_shape(RejectReason::invalid_json, flow_value, "flowRecords.flows[] entry is not an object");
        continue;
      }
      ctx.acl_id = json::member_string(flow, "aclID");
      auto groups = json::member_array(flow, "flowGroups");
      if (!groups) {
        reject_shape(RejectReason::missing_field, flow_value, "flowRecords.flows[].flowGroups is missing or not an array");
        continue;
      }
      for (element group_value : *groups) {
        object group;
        if (group_value.get_object().get(group) != simdjson::SUCCESS) {
          reject_shape(RejectReason::invalid_json, group_value, "flowGroups[] entry is not an object");
          continue;
        }
        ctx.rule = json::member_string(group, "rule");
        decode_tuples(group_value, group, ctx, "flowGroups[].flowTuples");
      }
    }
  }

  void decode_tuples(element holder_value, object holder, const Context& ctx, std::string_view path) {
    auto tuple_values = json::member_array(holder, "flowTuples");
    if (!tuple_values) {
      reject_shape(RejectReason::missing_field, holder_value, std::string(path) + " is missing or not an array");
      return;
    }
    for (element tuple_value : *tuple_values) {
      ++tuples;
      std::string_view tuple;
      if (tuple_value.get_string().get(tuple) != simdjson::SUCCESS) {
        const std::string raw = json::minified_excerpt(tuple_value);
        sink->on_reject(Reject{RejectReason::invalid_json, tuples, raw, "a flow tuple is not a JSON string"});
        continue;
      }
      record.reset();
      auto failure = ctx.format == Format::azure_vnet ? parse_vnet_flow_tuple(tuple, record)
                                                      : parse_nsg_flow_tuple(tuple, record);
      if (failure) {
        sink->on_reject(Reject{failure->reason, tuples, json::excerpt(tuple), failure->message});
        continue;
      }
      record.format = ctx.format;
      if (ctx.has_version) {
        record.version = ctx.version;
        record.set(Field::version);
      }
      if (!ctx.mac.empty()) record.interface_id.assign(ctx.mac);
      if (!ctx.rule.empty()) record.rule.assign(ctx.rule);
      if (!ctx.account.empty()) record.account_id.assign(ctx.account);
      if (!ctx.vpc.empty()) record.vpc_id.assign(ctx.vpc);
      if (!ctx.subnet.empty()) record.subnet_id.assign(ctx.subnet);
      if (!ctx.nsg.empty()) record.add_extra("nsg", ctx.nsg);
      if (!ctx.acl_id.empty()) record.add_extra("acl_id", ctx.acl_id);
      record.source_index = source_index;
      record.source_line = tuples;
      sink->on_record(record);
    }
  }

  DecoderOptions options;
  simdjson::dom::parser parser;
  std::string buffer;
  bool overflow = false;
  std::uint64_t document_line = 0;
  std::uint64_t tuples = 0;  // tuples seen so far, good or bad
  FlowRecord record;
  DecodeSink* sink = nullptr;  // set for the duration of finish()
  std::uint32_t source_index = 0;
};

AzureDecoder::AzureDecoder(Format format, const DecoderOptions& options)
    : format_(format), impl_(std::make_unique<Impl>(options)) {}
AzureDecoder::~AzureDecoder() = default;

void AzureDecoder::feed(std::string_view lines, std::uint64_t first_line, DecodeSink& /*sink*/) {
  Impl& impl = *impl_;
  if (impl.buffer.empty() && !impl.overflow && impl.document_line == 0) {
    impl.document_line = first_line;
    if (lines.substr(0, 3) == "\xEF\xBB\xBF") lines.remove_prefix(3);  // a UTF-8 byte order mark
  }
  if (impl.overflow) return;
  if (impl.buffer.size() + lines.size() > impl.options.max_document_bytes) {
    impl.overflow = true;
    impl.buffer.clear();
    impl.buffer.shrink_to_fit();
    return;
  }
  impl.buffer.append(lines);
}

void AzureDecoder::finish(DecodeSink& sink) {
  Impl& impl = *impl_;
  impl.sink = &sink;
  impl.source_index = source_index_;
  if (impl.overflow) {
    const std::string message = "JSON document is over max_document_bytes (" +
                                std::to_string(impl.options.max_document_bytes) + ")";
    sink.on_reject(Reject{RejectReason::line_too_long, impl.document_line, {}, message});
  } else {
    auto failure = json::for_each_document(impl.parser, impl.buffer,
                                           [&](element value, std::uint64_t) { impl.decode_top(value); });
    if (failure) {
      sink.on_reject(Reject{RejectReason::invalid_json, impl.tuples + 1, json::excerpt(impl.buffer, 256),
                            "Azure flow log document: " + *failure});
    }
  }
  impl.buffer.clear();
  impl.overflow = false;
  impl.document_line = 0;
  impl.sink = nullptr;
}

}  // namespace formats
}  // namespace flowlier::pipeline
