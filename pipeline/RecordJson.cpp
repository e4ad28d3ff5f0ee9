#include "pipeline/RecordJson.hpp"

#include <fmt/format.h>

#include "pipeline/JsonText.hpp"

namespace flowlier::pipeline {

namespace {
void key(std::string& out, std::string_view name) {
  out.push_back(',');
  out.push_back('"');
  out.append(name);
  out.append("\":");
}

void number(std::string& out, std::string_view name, std::uint64_t value) {
  key(out, name);
  fmt::format_int text(value);
  out.append(text.data(), text.size());
}

void time_value(std::string& out, std::string_view name, std::int64_t ns) {
  key(out, name);
  const std::int64_t seconds = ns / 1'000'000'000;
  const std::int64_t fraction = ns % 1'000'000'000;
  fmt::format_int text(seconds);
  out.append(text.data(), text.size());
  if (fraction != 0) fmt::format_to(std::back_inserter(out), ".{:09}", fraction < 0 ? -fraction : fraction);
}

// Only symbols and enum names reach here; symbols may hold any bytes, so escape.
void text(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  key(out, name);
  append_json_string(out, value);
}

void address(std::string& out, std::string_view name, const IpAddress& a) {
  key(out, name);
  char buffer[48];
  out.push_back('"');
  out.append(buffer, a.write(buffer));
  out.push_back('"');
}
}  // namespace

void append_record_json(std::string& out, const FlowRecord& r, std::string_view source) {
  out.append("{\"format\":\"");
  out.append(to_string(r.format));
  out.push_back('"');
  if (r.has(Field::version)) number(out, "version", r.version);
  text(out, "status", to_string(r.status));
  text(out, "account_id", r.account_id.view());
  text(out, "interface_id", r.interface_id.view());
  text(out, "instance_id", r.instance_id.view());
  text(out, "vpc_id", r.vpc_id.view());
  text(out, "subnet_id", r.subnet_id.view());
  text(out, "region", r.region.view());
  text(out, "az_id", r.az_id.view());
  if (r.has(Field::srcaddr)) address(out, "srcaddr", r.srcaddr);
  if (r.has(Field::dstaddr)) address(out, "dstaddr", r.dstaddr);
  if (r.has(Field::srcport)) number(out, "srcport", r.srcport);
  if (r.has(Field::dstport)) number(out, "dstport", r.dstport);
  if (r.has(Field::protocol)) number(out, "protocol", r.protocol);
  if (r.has(Field::packets)) number(out, "packets", r.packets);
  if (r.has(Field::bytes)) number(out, "bytes", r.bytes);
  if (r.has(Field::packets_reverse)) number(out, "packets_reverse", r.packets_reverse);
  if (r.has(Field::bytes_reverse)) number(out, "bytes_reverse", r.bytes_reverse);
  if (r.has(Field::start)) time_value(out, "start", r.start_ns);
  if (r.has(Field::end)) time_value(out, "end", r.end_ns);
  text(out, "action", to_string(r.action));
  text(out, "direction", to_string(r.direction));
  text(out, "reporter", to_string(r.reporter));
  text(out, "flow_state", to_string(r.flow_state));
  text(out, "type", to_string(r.traffic_type));
  if (r.has(Field::tcp_flags)) number(out, "tcp_flags", r.tcp_flags);
  if (r.has(Field::traffic_path)) number(out, "traffic_path", r.traffic_path);
  if (r.has(Field::pkt_srcaddr)) address(out, "pkt_srcaddr", r.pkt_srcaddr);
  if (r.has(Field::pkt_dstaddr)) address(out, "pkt_dstaddr", r.pkt_dstaddr);
  text(out, "pkt_src_aws_service", r.pkt_src_aws_service.view());
  text(out, "pkt_dst_aws_service", r.pkt_dst_aws_service.view());
  text(out, "rule", r.rule.view());
  if (r.sampling_rate != 1.0) fmt::format_to(std::back_inserter(out), ",\"sampling_rate\":{}", r.sampling_rate);
  if (r.has(Field::rtt)) number(out, "rtt_ms", r.rtt_ms);
  if (!r.extra.empty()) {
    out.append(",\"extra\":{");
    out.append(r.extra);
    out.push_back('}');
  }
  key(out, "source");
  append_json_string(out, source);
  number(out, "line", r.source_line);
  out.append("}\n");
}

}  // namespace flowlier::pipeline
