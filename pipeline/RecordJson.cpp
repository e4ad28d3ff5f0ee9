#include "pipeline/RecordJson.hpp"

#include <cstring>
#include <string>

#include <fmt/format.h>

#include "pipeline/JsonText.hpp"

namespace flowlier::pipeline {

namespace {
// The fixed-size part of a record (everything but `extra`, the source name and the
// rare sampling rate) is written into a stack buffer with no bounds checks and then
// appended to `out` once: per-character push_back on std::string dominated
// `normalize` profiles. Bound: 10 symbols of at most 47 bytes, escaped at most 6x
// (\u00XX) plus quotes and keys (< 3.2 KiB), 4 addresses (< 300 B), about 20 numbers
// and enum names (< 1 KiB).
constexpr std::size_t kFixedBound = 6 << 10;

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

class Writer {
 public:
  explicit Writer(char* p) : p_(p) {}
  char* end() const { return p_; }

  template <std::size_t N>
  void literal(const char (&s)[N]) {
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void raw(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  // Digits straight into the buffer, two at a time from a table (as fmt does):
  // numbers are most of a record's JSON.
  void unsigned_number(std::uint64_t value) {
    char digits[20];
    char* q = digits + sizeof digits;
    while (value >= 100) {
      const auto pair = static_cast<std::size_t>(value % 100) * 2;
      value /= 100;
      *--q = kDigitPairs[pair + 1];
      *--q = kDigitPairs[pair];
    }
    if (value >= 10) {
      const auto pair = static_cast<std::size_t>(value) * 2;
      *--q = kDigitPairs[pair + 1];
      *--q = kDigitPairs[pair];
    } else {
      *--q = static_cast<char>('0' + value);
    }
    const auto n = static_cast<std::size_t>(digits + sizeof digits - q);
    std::memcpy(p_, q, n);
    p_ += n;
  }
  // `key` is the whole ',"name":' prefix.
  template <std::size_t N>
  void number(const char (&key)[N], std::uint64_t value) {
    literal(key);
    unsigned_number(value);
  }
  template <std::size_t N>
  void time_value(const char (&key)[N], std::int64_t ns) {
    literal(key);
    const std::int64_t seconds = ns / 1'000'000'000;
    std::int64_t fraction = ns % 1'000'000'000;
    if (seconds < 0) {
      const fmt::format_int text(seconds);
      raw(std::string_view(text.data(), text.size()));
    } else {
      unsigned_number(static_cast<std::uint64_t>(seconds));
    }
    if (fraction != 0) {
      if (fraction < 0) fraction = -fraction;
      *p_++ = '.';
      for (int i = 8; i >= 0; --i) {
        p_[i] = static_cast<char>('0' + fraction % 10);
        fraction /= 10;
      }
      p_ += 9;
    }
  }
  // Symbols and enum names; symbols may hold any bytes, so escape (rarely needed).
  template <std::size_t N>
  void text(const char (&key)[N], std::string_view value) {
    if (value.empty()) return;
    literal(key);
    string_value(value);
  }
  void string_value(std::string_view value) {
    bool plain = true;
    for (const char ch : value) {
      const auto c = static_cast<unsigned char>(ch);
      plain &= c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
    }
    if (plain) {
      *p_++ = '"';
      raw(value);
      *p_++ = '"';
      return;
    }
    std::string escaped;
    append_json_string(escaped, value);
    raw(escaped);
  }
  template <std::size_t N>
  void address(const char (&key)[N], const IpAddress& a) {
    literal(key);
    *p_++ = '"';
    p_ += a.write(p_);
    *p_++ = '"';
  }

 private:
  char* p_;
};
}  // namespace

void append_record_json(std::string& out, const FlowRecord& r, std::string_view source) {
  char buffer[kFixedBound];
  Writer w(buffer);
  w.literal("{\"format\":\"");
  w.raw(to_string(r.format));
  w.literal("\"");
  if (r.has(Field::version)) w.number(",\"version\":", r.version);
  w.text(",\"status\":", to_string(r.status));
  w.text(",\"account_id\":", r.account_id.view());
  w.text(",\"interface_id\":", r.interface_id.view());
  w.text(",\"instance_id\":", r.instance_id.view());
  w.text(",\"vpc_id\":", r.vpc_id.view());
  w.text(",\"subnet_id\":", r.subnet_id.view());
  w.text(",\"region\":", r.region.view());
  w.text(",\"az_id\":", r.az_id.view());
  if (r.has(Field::srcaddr)) w.address(",\"srcaddr\":", r.srcaddr);
  if (r.has(Field::dstaddr)) w.address(",\"dstaddr\":", r.dstaddr);
  if (r.has(Field::srcport)) w.number(",\"srcport\":", r.srcport);
  if (r.has(Field::dstport)) w.number(",\"dstport\":", r.dstport);
  if (r.has(Field::protocol)) w.number(",\"protocol\":", r.protocol);
  if (r.has(Field::packets)) w.number(",\"packets\":", r.packets);
  if (r.has(Field::bytes)) w.number(",\"bytes\":", r.bytes);
  if (r.has(Field::packets_reverse)) w.number(",\"packets_reverse\":", r.packets_reverse);
  if (r.has(Field::bytes_reverse)) w.number(",\"bytes_reverse\":", r.bytes_reverse);
  if (r.has(Field::start)) w.time_value(",\"start\":", r.start_ns);
  if (r.has(Field::end)) w.time_value(",\"end\":", r.end_ns);
  w.text(",\"action\":", to_string(r.action));
  w.text(",\"direction\":", to_string(r.direction));
  w.text(",\"reporter\":", to_string(r.reporter));
  w.text(",\"flow_state\":", to_string(r.flow_state));
  w.text(",\"type\":", to_string(r.traffic_type));
  if (r.has(Field::tcp_flags)) w.number(",\"tcp_flags\":", r.tcp_flags);
  if (r.has(Field::traffic_path)) w.number(",\"traffic_path\":", r.traffic_path);
  if (r.has(Field::pkt_srcaddr)) w.address(",\"pkt_srcaddr\":", r.pkt_srcaddr);
  if (r.has(Field::pkt_dstaddr)) w.address(",\"pkt_dstaddr\":", r.pkt_dstaddr);
  w.text(",\"pkt_src_aws_service\":", r.pkt_src_aws_service.view());
  w.text(",\"pkt_dst_aws_service\":", r.pkt_dst_aws_service.view());
  w.text(",\"rule\":", r.rule.view());
  out.append(buffer, static_cast<std::size_t>(w.end() - buffer));

  if (r.sampling_rate != 1.0) fmt::format_to(std::back_inserter(out), ",\"sampling_rate\":{}", r.sampling_rate);
  Writer tail(buffer);
  if (r.has(Field::rtt)) tail.number(",\"rtt_ms\":", r.rtt_ms);
  out.append(buffer, static_cast<std::size_t>(tail.end() - buffer));
  if (!r.extra.empty()) {
    out.append(",\"extra\":{");
    out.append(r.extra);
    out.push_back('}');
  }
  out.append(",\"source\":");
  // Every record of an input names the same source: escape it once per input.
  thread_local std::string cached_source, escaped_source;
  if (source != cached_source) {
    cached_source.assign(source);
    escaped_source.clear();
    append_json_string(escaped_source, source);
  }
  out.append(escaped_source);
  Writer last(buffer);
  last.number(",\"line\":", r.source_line);
  last.literal("}\n");
  out.append(buffer, static_cast<std::size_t>(last.end() - buffer));
}

}  // namespace flowlier::pipeline
