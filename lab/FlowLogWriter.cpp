#include "lab/FlowLogWriter.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <tuple>

#include <fmt/format.h>

#include "lab/CloudLogWriter.hpp"
#include "lab/TimeText.hpp"

namespace flowlier::lab {

namespace {

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::int64_t delivery_key(const FlowLine& l) {
  std::uint64_t h = mix(static_cast<std::uint64_t>(l.start));
  h = mix(h ^ (static_cast<std::uint64_t>(l.src) << 32 | l.dst));
  h = mix(h ^ (static_cast<std::uint64_t>(l.sport) << 32 | static_cast<std::uint64_t>(l.dport) << 16 |
               l.host));
  h = mix(h ^ l.bytes);
  return l.end + static_cast<std::int64_t>(h % 120);
}

auto order_tuple(const FlowLine& l) {
  return std::tie(l.start, l.end, l.host, l.src, l.dst, l.sport, l.dport, l.protocol, l.egress,
                  l.reject, l.packets, l.bytes, l.tcp_flags, l.path);
}

void append_uint(std::string& out, std::uint64_t value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

void append_ip(std::string& out, std::uint32_t address) {
  char buf[16];
  out.append(buf, write_ipv4(address, buf));
}

}  // namespace

const char* log_root(LogFormat format) {
  switch (format) {
    case LogFormat::gcp: return "compute.googleapis.com";
    case LogFormat::azure_nsg: return "insights-logs-networksecuritygroupflowevent";
    case LogFormat::azure_vnet: return "insights-logs-flowlogflowevent";
    case LogFormat::v2:
    case LogFormat::v5_custom: break;
  }
  return "AWSLogs";
}

FlowLogWriter::FlowLogWriter(const Environment& env, LogFormat format,
                             std::filesystem::path out_dir, std::uint64_t seed)
    : env_(env), format_(format), out_dir_(std::move(out_dir)), seed_(seed),
      cloud_(make_cloud_log_writer(env, format, out_dir_, seed)) {}

FlowLogWriter::~FlowLogWriter() = default;

void FlowLogWriter::relabel(Labels& labels) const {
  if (!cloud_) return;
  for (auto* spans : {&labels.incidents, &labels.benign_changes}) {
    for (auto& span : *spans) {
      for (auto& entity : span.entities) {
        if (entity.kind != "interface") continue;
        for (std::size_t i = 0; i < env_.hosts().size(); ++i) {
          if (env_.host(i).eni == entity.id) {
            entity.id = cloud_->interface_id(i);
            break;
          }
        }
      }
    }
  }
}

const char* FlowLogWriter::header(LogFormat format) {
  return format == LogFormat::v2
             ? "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
               "bytes start end action log-status"
             : "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
               "bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type "
               "pkt-srcaddr pkt-dstaddr flow-direction traffic-path";
}

std::filesystem::path FlowLogWriter::relative_path(std::int64_t hour_start) const {
  const std::string t = format_rfc3339(hour_start);  // YYYY-MM-DDTHH:MM:SSZ
  const std::string stamp = t.substr(0, 4) + t.substr(5, 2) + t.substr(8, 2) + "T" +
                            t.substr(11, 2) + t.substr(14, 2) + "Z";
  const auto hash = static_cast<std::uint32_t>(mix(seed_ ^ mix(static_cast<std::uint64_t>(hour_start))));
  const std::string& account = env_.account_id();
  return std::filesystem::path("AWSLogs") / account / "vpcflowlogs" / "us-east-1" /
         t.substr(0, 4) / t.substr(5, 2) / t.substr(8, 2) /
         fmt::format("{}_vpcflowlogs_us-east-1_fl-0sim_{}_{:08x}.log.gz", account, stamp, hash);
}

void FlowLogWriter::append_line(std::string& out, const FlowLine& l) const {
  const Host& h = env_.host(l.host);
  out.append(format_ == LogFormat::v2 ? "2 " : "5 ");
  out.append(env_.account_id());
  out.push_back(' ');
  out.append(h.eni);
  out.push_back(' ');
  append_ip(out, l.src);
  out.push_back(' ');
  append_ip(out, l.dst);
  out.push_back(' ');
  append_uint(out, l.sport);
  out.push_back(' ');
  append_uint(out, l.dport);
  out.push_back(' ');
  append_uint(out, l.protocol);
  out.push_back(' ');
  append_uint(out, l.packets);
  out.push_back(' ');
  append_uint(out, l.bytes);
  out.push_back(' ');
  append_uint(out, static_cast<std::uint64_t>(l.start));
  out.push_back(' ');
  append_uint(out, static_cast<std::uint64_t>(l.end));
  out.append(l.reject ? " REJECT OK" : " ACCEPT OK");
  if (format_ == LogFormat::v5_custom) {
    out.push_back(' ');
    out.append(env_.vpc_id());
    out.push_back(' ');
    out.append(h.subnet_id);
    out.push_back(' ');
    out.append(h.instance_id);
    out.push_back(' ');
    append_uint(out, l.tcp_flags);
    out.append(" IPv4 ");
    append_ip(out, l.src);
    out.push_back(' ');
    append_ip(out, l.dst);
    if (l.egress) {
      out.append(" egress ");
      append_uint(out, l.path);
    } else {
      out.append(" ingress -");
    }
  }
  out.push_back('\n');
}

std::string FlowLogWriter::write_hour(std::int64_t hour_start, std::vector<FlowLine>& lines) {
  if (cloud_) {
    WriteTotals totals;
    auto error = cloud_->write_hour(hour_start, lines, totals);
    records_ += totals.records;
    files_ += totals.files;
    uncompressed_bytes_ += totals.uncompressed_bytes;
    compressed_bytes_ += totals.compressed_bytes;
    return error;
  }
  std::vector<std::pair<std::int64_t, std::uint32_t>> order;
  order.reserve(lines.size());
  for (std::uint32_t i = 0; i < lines.size(); ++i) order.emplace_back(delivery_key(lines[i]), i);
  // Ties broken by content so the order never depends on how the generator produced them.
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return order_tuple(lines[a.second]) < order_tuple(lines[b.second]);
  });

  std::string text;
  text.reserve(lines.size() * (format_ == LogFormat::v2 ? 110 : 230) + 256);
  text.append(header(format_));
  text.push_back('\n');
  for (const auto& [key, index] : order) append_line(text, lines[index]);

  const std::filesystem::path rel = relative_path(hour_start);
  const std::filesystem::path path = out_dir_ / rel;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message());
  gzFile file = gzopen(path.c_str(), "wb2");
  if (file == nullptr) return fmt::format("cannot open {} for writing", path.string());
  gzbuffer(file, 1 << 18);
  std::size_t done = 0;
  while (done < text.size()) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(text.size() - done, 1u << 26));
    if (gzwrite(file, text.data() + done, chunk) != static_cast<int>(chunk)) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      return fmt::format("cannot write {}: {}", path.string(), message);
    }
    done += chunk;
  }
  if (gzclose(file) != Z_OK) return fmt::format("cannot finish {}", path.string());
  records_ += lines.size();
  ++files_;
  uncompressed_bytes_ += text.size();
  compressed_bytes_ += std::filesystem::file_size(path, ec);
  return {};
}

}  // namespace flowlier::lab
