#include "pipeline/RecordWire.hpp"

#include <cmath>
#include <cstring>
#include <type_traits>

namespace flowlier::pipeline {

namespace {

template <typename T>
void put(std::string& out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void put_text(std::string& out, std::string_view text) {
  put(out, static_cast<std::uint32_t>(text.size()));
  out.append(text);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool get(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (in_.size() - pos_ < sizeof value) return false;
    std::memcpy(&value, in_.data() + pos_, sizeof value);
    pos_ += sizeof value;
    return true;
  }
  bool get_text(std::string_view& text, std::size_t max) {
    std::uint32_t n = 0;
    if (!get(n) || n > max || in_.size() - pos_ < n) return false;
    text = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool get_symbol(Symbol& symbol) {
    std::string_view text;
    if (!get_text(text, Symbol::capacity)) return false;
    symbol.assign(text);
    return true;
  }
  std::size_t position() const { return pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

void append_record_wire(std::string& out, const FlowRecord& r) {
  put(out, kRecordWireVersion);
  put(out, r.present);
  put(out, r.format);
  put(out, r.version);
  put(out, r.status);
  put(out, r.action);
  put(out, r.direction);
  put(out, r.reporter);
  put(out, r.flow_state);
  put(out, r.traffic_type);
  put(out, r.protocol);
  put(out, r.traffic_path);
  put(out, r.tcp_flags);
  put(out, r.srcport);
  put(out, r.dstport);
  put(out, r.start_ns);
  put(out, r.end_ns);
  put(out, r.srcaddr);
  put(out, r.dstaddr);
  put(out, r.pkt_srcaddr);
  put(out, r.pkt_dstaddr);
  put(out, r.packets);
  put(out, r.bytes);
  put(out, r.packets_reverse);
  put(out, r.bytes_reverse);
  put(out, r.sampling_rate);
  put(out, r.rtt_ms);
  for (const Symbol* s : {&r.account_id, &r.interface_id, &r.instance_id, &r.vpc_id, &r.subnet_id, &r.region,
                          &r.az_id, &r.pkt_src_aws_service, &r.pkt_dst_aws_service, &r.rule}) {
    put_text(out, s->view());
  }
  put_text(out, r.extra);
  put(out, r.source_index);
  put(out, r.source_line);
}

std::size_t read_record_wire(std::string_view in, FlowRecord& r) {
  static_assert(std::is_trivially_copyable_v<IpAddress>);
  r.reset();
  Reader rd(in);
  std::uint8_t version = 0;
  if (!rd.get(version) || version != kRecordWireVersion) return 0;
  std::uint8_t format = 0, status = 0, action = 0, direction = 0, reporter = 0, flow_state = 0, traffic_type = 0;
  bool ok = rd.get(r.present) && rd.get(format) && rd.get(r.version) && rd.get(status) && rd.get(action) &&
            rd.get(direction) && rd.get(reporter) && rd.get(flow_state) && rd.get(traffic_type) &&
            rd.get(r.protocol) && rd.get(r.traffic_path) && rd.get(r.tcp_flags) && rd.get(r.srcport) &&
            rd.get(r.dstport) && rd.get(r.start_ns) && rd.get(r.end_ns) && rd.get(r.srcaddr) && rd.get(r.dstaddr) &&
            rd.get(r.pkt_srcaddr) && rd.get(r.pkt_dstaddr) && rd.get(r.packets) && rd.get(r.bytes) &&
            rd.get(r.packets_reverse) && rd.get(r.bytes_reverse) && rd.get(r.sampling_rate) && rd.get(r.rtt_ms);
  // Enumerations are checked against their ranges: a value the type does not define
  // would mislead every switch downstream.
  ok = ok && format <= static_cast<std::uint8_t>(Format::azure_vnet) &&
       status <= static_cast<std::uint8_t>(LogStatus::skipdata) && action <= static_cast<std::uint8_t>(Action::reject) &&
       direction <= static_cast<std::uint8_t>(Direction::egress) &&
       reporter <= static_cast<std::uint8_t>(Reporter::dest_gateway) &&
       flow_state <= static_cast<std::uint8_t>(FlowState::denied) &&
       traffic_type <= static_cast<std::uint8_t>(TrafficType::efa);
  if (!ok) return 0;
  r.format = static_cast<Format>(format);
  r.status = static_cast<LogStatus>(status);
  r.action = static_cast<Action>(action);
  r.direction = static_cast<Direction>(direction);
  r.reporter = static_cast<Reporter>(reporter);
  r.flow_state = static_cast<FlowState>(flow_state);
  r.traffic_type = static_cast<TrafficType>(traffic_type);
  for (Symbol* s : {&r.account_id, &r.interface_id, &r.instance_id, &r.vpc_id, &r.subnet_id, &r.region, &r.az_id,
                    &r.pkt_src_aws_service, &r.pkt_dst_aws_service, &r.rule}) {
    if (!rd.get_symbol(*s)) return 0;
  }
  std::string_view extra;
  if (!rd.get_text(extra, 1 << 20)) return 0;
  r.extra.assign(extra);
  if (!rd.get(r.source_index) || !rd.get(r.source_line)) return 0;
  return rd.position();
}

namespace {
// The observation's flags, one bit each, in this order.
constexpr int kFlagCount = 7;
bool models::Observation::*const kFlags[kFlagCount] = {
    &models::Observation::has_peer,      &models::Observation::has_port, &models::Observation::rejected,
    &models::Observation::external_peer, &models::Observation::inbound,  &models::Observation::client,
    &models::Observation::continues};
}  // namespace

void append_observation_wire(std::string& out, const models::Observation& o) {
  put(out, kObservationWireVersion);
  put(out, static_cast<std::uint8_t>(o.entity.kind));
  put_text(out, o.entity.id.view());
  put(out, o.entity.host);
  put(out, o.time_s);
  put(out, o.bytes_in);
  put(out, o.bytes_out);
  put(out, o.packets);
  put(out, o.peer_hash);
  put(out, o.peer);
  put(out, o.service_port);
  put(out, o.local_port);
  put(out, o.protocol);
  std::uint8_t flags = 0;
  for (int i = 0; i < kFlagCount; ++i) flags |= static_cast<std::uint8_t>((o.*kFlags[i] ? 1 : 0) << i);
  put(out, flags);
  put(out, o.weight);
  put(out, o.directions);
}

std::size_t read_observation_wire(std::string_view in, models::Observation& o) {
  o = models::Observation{};
  Reader rd(in);
  std::uint8_t version = 0, kind = 0, flags = 0;
  if (!rd.get(version) || version != kObservationWireVersion || !rd.get(kind) ||
      kind >= models::kEntityKindCount || !rd.get_symbol(o.entity.id))
    return 0;
  o.entity.kind = static_cast<models::EntityKind>(kind);
  const bool ok = rd.get(o.entity.host) && rd.get(o.time_s) && rd.get(o.bytes_in) && rd.get(o.bytes_out) &&
                  rd.get(o.packets) && rd.get(o.peer_hash) && rd.get(o.peer) && rd.get(o.service_port) &&
                  rd.get(o.local_port) && rd.get(o.protocol) && rd.get(flags) && rd.get(o.weight) &&
                  rd.get(o.directions);
  if (!ok || flags >> kFlagCount != 0 || !std::isfinite(o.weight) || !(o.weight > 0)) return 0;
  for (int i = 0; i < kFlagCount; ++i) o.*kFlags[i] = (flags >> i & 1) != 0;
  return rd.position();
}

}  // namespace flowlier::pipeline
