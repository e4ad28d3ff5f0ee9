#include "pipeline/formats/GcpDecoder.hpp"

#include <charconv>
#include <limits>
#include <optional>
#include <string>

#include "pipeline/formats/JsonDom.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::pipeline {

std::unique_ptr<Decoder> make_gcp_decoder(const DecoderOptions& options) {
  return std::make_unique<formats::GcpDecoder>(options);
}

namespace formats {

namespace {

using json::element;
using json::NumberStatus;
using json::object;

struct DecodeError {
  RejectReason reason;
  std::string message;
};
using DecodeResult = std::optional<DecodeError>;  // nullopt: the record is valid

DecodeError error(RejectReason reason, std::string_view prefix, std::string_view field, std::string_view what) {
  std::string message;
  message.reserve(prefix.size() + field.size() + what.size() + 2);
  message.append(prefix).append(field).append(": ").append(what);
  return {reason, std::move(message)};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view strip_bom(std::string_view s) {
  return s.substr(0, 3) == "\xEF\xBB\xBF" ? s.substr(3) : s;
}

// The text of a JSON value for a message: strings as-is, other values minified.
std::string shown(element value) {
  std::string_view s;
  if (value.get_string().get(s) == simdjson::SUCCESS) return std::string(json::excerpt(s, 80));
  return json::minified_excerpt(value, 80);
}

DecodeResult read_address(object conn, std::string_view prefix, std::string_view key, IpAddress& out) {
  auto value = json::member(conn, key);
  if (!value) return error(RejectReason::missing_field, prefix, key, "missing");
  std::string_view text;
  if (value->get_string().get(text) != simdjson::SUCCESS) {
    return error(RejectReason::bad_address, prefix, key, "not a string: " + shown(*value));
  }
  auto address = IpAddress::parse(text);
  if (!address) return error(RejectReason::bad_address, prefix, key, "'" + shown(*value) + "' is not an IP address");
  out = *address;
  return std::nullopt;
}

DecodeResult read_port(object conn, std::string_view prefix, std::string_view key, std::uint16_t& out, bool& present) {
  std::uint64_t v = 0;
  switch (json::read_unsigned(conn, key, v)) {
    case NumberStatus::absent: present = false; return std::nullopt;
    case NumberStatus::bad: break;
    case NumberStatus::ok:
      if (v <= 65535) {
        out = static_cast<std::uint16_t>(v);
        present = true;
        return std::nullopt;
      }
      break;
  }
  return error(RejectReason::bad_port, prefix, key, shown(*json::member(conn, key)) + " is not a port in 0-65535");
}

// A counter; absent leaves `out` untouched and returns false in `present`.
DecodeResult read_counter(object payload, std::string_view prefix, std::string_view key, std::uint64_t max,
                          std::uint64_t& out, bool& present) {
  std::uint64_t v = 0;
  present = false;
  switch (json::read_unsigned(payload, key, v)) {
    case NumberStatus::absent: return std::nullopt;
    case NumberStatus::bad: break;
    case NumberStatus::ok:
      if (v <= max) {
        out = v;
        present = true;
        return std::nullopt;
      }
      break;
  }
  return error(RejectReason::bad_number, prefix, key,
               shown(*json::member(payload, key)) + " is not an unsigned integer in range");
}

DecodeResult read_time(object payload, std::string_view prefix, std::string_view key, std::int64_t& out, bool& present) {
  present = false;
  auto value = json::member(payload, key);
  if (!value) return std::nullopt;
  std::string_view text;
  std::optional<std::int64_t> ns;
  if (value->get_string().get(text) == simdjson::SUCCESS) ns = parse_rfc3339(text);
  if (!ns) return error(RejectReason::bad_time, prefix, key, "'" + shown(*value) + "' is not an RFC 3339 timestamp");
  out = *ns;
  present = true;
  return std::nullopt;
}

void assign_if_empty(Symbol& symbol, std::string_view value) {
  if (symbol.empty() && !value.empty()) symbol.assign(value);
}

void add_extra_if(FlowRecord& r, std::string_view name, std::string_view value) {
  if (!value.empty()) r.add_extra(name, value);
}

// The payload keys of one side of the connection, spelled out so lookups build no strings.
struct SideKeys {
  std::string_view instance, vpc, gateway, location, country, gke, gke_cluster, gke_namespace, gke_pod;
};
constexpr SideKeys kSrcKeys{"src_instance", "src_vpc",         "src_gateway",           "src_location", "src_country",
                            "src_gke_details", "src_gke_cluster", "src_gke_namespace", "src_gke_pod"};
constexpr SideKeys kDestKeys{"dest_instance",    "dest_vpc",         "dest_gateway",           "dest_location",
                             "dest_country",     "dest_gke_details", "dest_gke_cluster",       "dest_gke_namespace",
                             "dest_gke_pod"};

void add_side_extras(FlowRecord& r, object payload, const SideKeys& keys) {
  if (auto location = json::member_object(payload, keys.location)) {
    add_extra_if(r, keys.country, json::member_string(*location, "country"));
  }
  auto gke = json::member_object(payload, keys.gke);
  if (!gke) return;
  if (auto cluster = json::member_object(*gke, "cluster")) {
    add_extra_if(r, keys.gke_cluster, json::member_string(*cluster, "cluster_name"));
  }
  if (auto pod = json::member_object(*gke, "pod")) {
    add_extra_if(r, keys.gke_namespace, json::member_string(*pod, "pod_namespace"));
    add_extra_if(r, keys.gke_pod, json::member_string(*pod, "pod_name"));
  }
}

// The Firewall Rules Logging part of an entry (connection and times are read already):
// action from `disposition`, the local side from `instance` and the direction from
// `rule_details.direction` (INGRESS: the instance is the destination).
DecodeResult decode_firewall_entry(object payload, std::string_view prefix, element disposition_value, FlowRecord& r) {
  std::string_view disposition;
  if (disposition_value.get_string().get(disposition) != simdjson::SUCCESS) disposition = {};
  if (disposition == "ALLOWED" || disposition == "INTERCEPTED") {
    r.action = Action::accept;
  } else if (disposition == "DENIED") {
    r.action = Action::reject;
  } else {
    return error(RejectReason::bad_value, prefix, "disposition",
                 "'" + shown(disposition_value) + "' is not ALLOWED, DENIED or INTERCEPTED");
  }
  r.add_extra("gcp_log", "firewall");
  if (disposition == "INTERCEPTED") r.add_extra("disposition", disposition);
  if (auto details = json::member_object(payload, "rule_details")) {
    const std::string_view direction = json::member_string(*details, "direction");
    if (direction == "INGRESS") {
      r.direction = Direction::ingress;
    } else if (direction == "EGRESS") {
      r.direction = Direction::egress;
    } else if (!direction.empty()) {
      return error(RejectReason::bad_value, prefix, "rule_details.direction",
                   "'" + std::string(json::excerpt(direction, 80)) + "' is not INGRESS or EGRESS");
    }
    const std::string_view reference = json::member_string(*details, "reference");
    if (!reference.empty()) r.rule.assign(reference);
  }
  if (auto instance = json::member_object(payload, "instance")) {
    assign_if_empty(r.interface_id, json::member_string(*instance, "vm_name"));
    assign_if_empty(r.account_id, json::member_string(*instance, "project_id"));
    assign_if_empty(r.region, json::member_string(*instance, "region"));
    assign_if_empty(r.az_id, json::member_string(*instance, "zone"));
  }
  if (auto vpc = json::member_object(payload, "vpc")) {
    assign_if_empty(r.vpc_id, json::member_string(*vpc, "vpc_name"));
    assign_if_empty(r.subnet_id, json::member_string(*vpc, "subnetwork_name"));
    assign_if_empty(r.account_id, json::member_string(*vpc, "project_id"));
  }
  if (auto remote = json::member_object(payload, "remote_instance")) {
    add_extra_if(r, "peer_vm", json::member_string(*remote, "vm_name"));
    add_extra_if(r, "peer_project", json::member_string(*remote, "project_id"));
  }
  if (auto remote = json::member_object(payload, "remote_vpc")) {
    add_extra_if(r, "peer_vpc", json::member_string(*remote, "vpc_name"));
  }
  if (auto location = json::member_object(payload, "remote_location")) {
    add_extra_if(r, "peer_country", json::member_string(*location, "country"));
  }
  return std::nullopt;
}

// Decodes one LogEntry (or bare jsonPayload) into `r` (reset by the caller).
DecodeResult decode_entry(element entry, FlowRecord& r) {
  object root;
  if (entry.get_object().get(root) != simdjson::SUCCESS) {
    return DecodeError{RejectReason::invalid_json, "the log entry is not a JSON object"};
  }
  object payload = root;
  std::string_view prefix;
  const bool wrapped = json::member(root, "jsonPayload").has_value();
  if (auto p = json::member(root, "jsonPayload")) {
    if (p->get_object().get(payload) != simdjson::SUCCESS) {
      return DecodeError{RejectReason::invalid_json, "jsonPayload is not a JSON object"};
    }
    prefix = "jsonPayload.";
  }
  auto conn = json::member_object(payload, "connection");
  if (!conn) return error(RejectReason::missing_field, prefix, "connection", "missing or not an object");
  const std::string_view conn_prefix = wrapped ? "jsonPayload.connection." : "connection.";

  r.format = Format::gcp_vpc;
  if (auto e = read_address(*conn, conn_prefix, "src_ip", r.srcaddr)) return e;
  if (auto e = read_address(*conn, conn_prefix, "dest_ip", r.dstaddr)) return e;
  r.set(Field::srcaddr);
  r.set(Field::dstaddr);
  bool present = false;
  if (auto e = read_port(*conn, conn_prefix, "src_port", r.srcport, present)) return e;
  if (present) r.set(Field::srcport);
  if (auto e = read_port(*conn, conn_prefix, "dest_port", r.dstport, present)) return e;
  if (present) r.set(Field::dstport);
  {
    std::uint64_t protocol = 0;
    const NumberStatus status = json::read_unsigned(*conn, "protocol", protocol);
    if (status == NumberStatus::bad || (status == NumberStatus::ok && protocol > 255)) {
      return error(RejectReason::bad_protocol, conn_prefix, "protocol",
                   shown(*json::member(*conn, "protocol")) + " is not an IANA protocol number in 0-255");
    }
    if (status == NumberStatus::ok) {
      r.protocol = static_cast<std::uint8_t>(protocol);
      r.set(Field::protocol);
    }
  }

  constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();
  if (auto e = read_counter(payload, prefix, "bytes_sent", u64_max, r.bytes, present)) return e;
  if (present) r.set(Field::bytes);
  if (auto e = read_counter(payload, prefix, "packets_sent", u64_max, r.packets, present)) return e;
  if (present) r.set(Field::packets);
  {
    std::uint64_t rtt = 0;
    if (auto e = read_counter(payload, prefix, "rtt_msec", std::numeric_limits<std::uint32_t>::max(), rtt, present)) {
      return e;
    }
    if (present) {
      r.rtt_ms = static_cast<std::uint32_t>(rtt);
      r.set(Field::rtt);
    }
  }

  if (auto e = read_time(payload, prefix, "start_time", r.start_ns, present)) return e;
  if (present) r.set(Field::start);
  if (auto e = read_time(payload, prefix, "end_time", r.end_ns, present)) return e;
  if (present) {
    r.set(Field::end);
  } else if (wrapped) {
    // Cloud Logging stamps a flow entry with its end_time: a fair stand-in.
    if (auto ts = parse_rfc3339(json::member_string(root, "timestamp"))) {
      r.end_ns = *ts;
      r.set(Field::end);
    }
  }
  if (r.has(Field::start) && r.has(Field::end) && r.end_ns < r.start_ns) {
    return error(RejectReason::bad_time, prefix, "end_time", "before start_time");
  }

  // Firewall Rules Logging: one entry per connection a logged rule matched, on the VM
  // the rule protects (`instance`); the disposition is the action. VPC flow logs never
  // show denied connections, so this is the only place GCP reports them.
  if (auto disposition = json::member(payload, "disposition")) {
    if (auto e = decode_firewall_entry(payload, prefix, *disposition, r)) return e;
    if (!r.has(Field::start) && r.has(Field::end)) {
      r.start_ns = r.end_ns;  // the entry's timestamp is when the connection was seen
      r.set(Field::start);
    }
    return std::nullopt;
  }

  const SideKeys* side = nullptr;  // the reporting side's keys
  if (auto value = json::member(payload, "reporter")) {
    std::string_view reporter;
    if (value->get_string().get(reporter) != simdjson::SUCCESS) reporter = {};
    if (reporter == "SRC") {
      r.reporter = Reporter::src;
    } else if (reporter == "DEST") {
      r.reporter = Reporter::dest;
    } else if (reporter == "SRC_GATEWAY") {
      r.reporter = Reporter::src_gateway;
    } else if (reporter == "DEST_GATEWAY") {
      r.reporter = Reporter::dest_gateway;
    } else {
      return error(RejectReason::bad_value, prefix, "reporter",
                   "'" + shown(*value) + "' is not SRC, DEST, SRC_GATEWAY or DEST_GATEWAY");
    }
    const bool is_src = r.reporter == Reporter::src || r.reporter == Reporter::src_gateway;
    side = is_src ? &kSrcKeys : &kDestKeys;
    r.direction = is_src ? Direction::egress : Direction::ingress;
  }

  for (std::string_view key : {"flow_sampling", "sampling_rate"}) {
    auto value = json::member(payload, key);
    if (!value) continue;
    double rate = 0;
    if (value->get_double().get(rate) != simdjson::SUCCESS) {
      std::string_view text;
      const bool parsed = value->get_string().get(text) == simdjson::SUCCESS && !text.empty() && [&] {
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), rate);
        return ec == std::errc{} && ptr == text.data() + text.size();
      }();
      if (!parsed) return error(RejectReason::bad_number, prefix, key, shown(*value) + " is not a number");
    }
    if (!(rate > 0.0 && rate <= 1.0)) {
      return error(RejectReason::bad_value, prefix, key, shown(*value) + " is not a sampling rate in (0, 1]");
    }
    r.sampling_rate = rate;
    break;
  }

  if (side != nullptr) {
    const SideKeys& peer = side == &kSrcKeys ? kDestKeys : kSrcKeys;
    if (auto instance = json::member_object(payload, side->instance)) {
      assign_if_empty(r.interface_id, json::member_string(*instance, "vm_name"));
      assign_if_empty(r.account_id, json::member_string(*instance, "project_id"));
      assign_if_empty(r.region, json::member_string(*instance, "region"));
      assign_if_empty(r.az_id, json::member_string(*instance, "zone"));
    }
    if (auto gateway = json::member_object(payload, side->gateway)) {
      assign_if_empty(r.interface_id, json::member_string(*gateway, "name"));
      assign_if_empty(r.account_id, json::member_string(*gateway, "project_id"));
      assign_if_empty(r.region, json::member_string(*gateway, "region"));
      assign_if_empty(r.vpc_id, json::member_string(*gateway, "vpc_name"));
    }
    if (auto vpc = json::member_object(payload, side->vpc)) {
      assign_if_empty(r.vpc_id, json::member_string(*vpc, "vpc_name"));
      assign_if_empty(r.subnet_id, json::member_string(*vpc, "subnetwork_name"));
      assign_if_empty(r.account_id, json::member_string(*vpc, "project_id"));
    }
    if (auto instance = json::member_object(payload, peer.instance)) {
      add_extra_if(r, "peer_vm", json::member_string(*instance, "vm_name"));
      add_extra_if(r, "peer_project", json::member_string(*instance, "project_id"));
    }
    if (auto vpc = json::member_object(payload, peer.vpc)) {
      add_extra_if(r, "peer_vpc", json::member_string(*vpc, "vpc_name"));
    }
  }
  if (wrapped) {
    if (auto resource = json::member_object(root, "resource")) {
      if (auto labels = json::member_object(*resource, "labels")) {
        assign_if_empty(r.account_id, json::member_string(*labels, "project_id"));
        assign_if_empty(r.subnet_id, json::member_string(*labels, "subnetwork_name"));
      }
    }
  }

  add_side_extras(r, payload, kSrcKeys);
  add_side_extras(r, payload, kDestKeys);
  return std::nullopt;
}

}  // namespace

struct GcpDecoder::Impl {
  enum class Mode { undecided, lines, document };

  explicit Impl(const DecoderOptions& o) : options(o) {}

  // Decodes one top-level JSON value: an entry, or an array of entries. In JSON Lines
  // mode every entry is numbered by its line; in document mode by its ordinal.
  void decode_value(element value, std::uint64_t line, std::string_view raw, DecodeSink& sink,
                    std::uint32_t source_index) {
    auto source_line = [&] { return mode == Mode::document ? next_ordinal++ : line; };
    simdjson::dom::array entries;
    if (value.get_array().get(entries) == simdjson::SUCCESS) {
      for (element entry : entries) decode_one(entry, source_line(), raw, sink, source_index);
      return;
    }
    decode_one(value, source_line(), raw, sink, source_index);
  }

  // `raw` is the line in JSON Lines mode; empty in document mode (the entry is minified instead).
  void decode_one(element entry, std::uint64_t source_line, std::string_view raw, DecodeSink& sink,
                  std::uint32_t source_index) {
    record.reset();
    if (auto e = decode_entry(entry, record)) {
      std::string minified;
      if (raw.empty()) {
        minified = json::minified_excerpt(entry);
        raw = minified;
      }
      sink.on_reject(Reject{e->reason, source_line, json::excerpt(raw), e->message});
      return;
    }
    record.source_index = source_index;
    record.source_line = source_line;
    sink.on_record(record);
  }

  void decode_line(std::string_view line, std::uint64_t line_number, DecodeSink& sink, std::uint32_t source_index) {
    if (line.size() > options.max_line_bytes) {
      const std::string message = "line of " + std::to_string(line.size()) + " bytes is over max_line_bytes (" +
                                  std::to_string(options.max_line_bytes) + ")";
      sink.on_reject(Reject{RejectReason::line_too_long, line_number, json::excerpt(line), message});
      return;
    }
    line_copy.assign(line);
    line_copy.reserve(line.size() + simdjson::SIMDJSON_PADDING);
    element value;
    if (auto err = parser.parse(line_copy.data(), line_copy.size(), false).get(value); err != simdjson::SUCCESS) {
      const std::string message = std::string("line is not valid JSON: ") + simdjson::error_message(err);
      sink.on_reject(Reject{RejectReason::invalid_json, line_number, json::excerpt(line), message});
      return;
    }
    decode_value(value, line_number, line, sink, source_index);
  }

  void buffer_line(std::string_view line, std::uint64_t line_number) {
    if (buffer.empty() && !overflow) document_line = line_number;
    if (overflow) return;
    if (buffer.size() + line.size() + 1 > options.max_document_bytes) {
      overflow = true;
      buffer.clear();
      buffer.shrink_to_fit();
      return;
    }
    buffer.append(line).push_back('\n');
  }

  DecoderOptions options;
  Mode mode = Mode::undecided;
  simdjson::dom::parser parser;
  std::string line_copy;
  std::string buffer;
  bool overflow = false;
  std::uint64_t document_line = 0;  // first line of the buffered document
  std::uint64_t next_ordinal = 1;
  FlowRecord record;
};

GcpDecoder::GcpDecoder(const DecoderOptions& options) : impl_(std::make_unique<Impl>(options)) {}
GcpDecoder::~GcpDecoder() = default;

void GcpDecoder::feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) {
  std::uint64_t line_number = first_line;
  while (!lines.empty()) {
    const std::size_t nl = lines.find('\n');
    std::string_view line = lines.substr(0, nl);
    lines.remove_prefix(nl == std::string_view::npos ? lines.size() : nl + 1);
    switch (impl_->mode) {
      case Impl::Mode::undecided: {
        line = strip_bom(line);
        const std::string_view t = trim(line);
        if (t.empty()) break;
        if (t.front() == '{' && t.back() == '}') {
          impl_->mode = Impl::Mode::lines;
          impl_->decode_line(t, line_number, sink, source_index_);
        } else {
          impl_->mode = Impl::Mode::document;
          impl_->buffer_line(line, line_number);
        }
        break;
      }
      case Impl::Mode::lines: {
        const std::string_view t = trim(line);
        if (!t.empty()) impl_->decode_line(t, line_number, sink, source_index_);
        break;
      }
      case Impl::Mode::document:
        impl_->buffer_line(line, line_number);
        break;
    }
    ++line_number;
  }
}

void GcpDecoder::finish(DecodeSink& sink) {
  Impl& impl = *impl_;
  if (impl.mode != Impl::Mode::document) return;
  if (impl.overflow) {
    const std::string message = "JSON document is over max_document_bytes (" +
                                std::to_string(impl.options.max_document_bytes) + ")";
    sink.on_reject(Reject{RejectReason::line_too_long, impl.document_line, {}, message});
  } else {
    auto failure = json::for_each_document(impl.parser, impl.buffer, [&](element value, std::uint64_t) {
      impl.decode_value(value, impl.next_ordinal, {}, sink, source_index_);
    });
    if (failure) {
      sink.on_reject(Reject{RejectReason::invalid_json, impl.next_ordinal, json::excerpt(impl.buffer, 256),
                            "GCP log document: " + *failure});
    }
  }
  impl.buffer.clear();
  impl.overflow = false;
  impl.mode = Impl::Mode::undecided;
}

}  // namespace formats
}  // namespace flowlier::pipeline
