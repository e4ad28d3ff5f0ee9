#include "lab/CloudLogWriter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <system_error>
#include <tuple>

namespace flowlier::lab {

std::unique_ptr<CloudLogWriter> make_gcp_log_writer(const Environment& env, std::filesystem::path out_dir,
                                                    std::uint64_t seed);
std::unique_ptr<CloudLogWriter> make_azure_log_writer(const Environment& env, LogFormat format,
                                                      std::filesystem::path out_dir, std::uint64_t seed);

std::unique_ptr<CloudLogWriter> make_cloud_log_writer(const Environment& env, LogFormat format,
                                                      std::filesystem::path out_dir, std::uint64_t seed) {
  switch (format) {
    case LogFormat::gcp: return make_gcp_log_writer(env, std::move(out_dir), seed);
    case LogFormat::azure_nsg:
    case LogFormat::azure_vnet: return make_azure_log_writer(env, format, std::move(out_dir), seed);
    case LogFormat::v2:
    case LogFormat::v5_custom: break;
  }
  return nullptr;
}

std::string write_log_file(const std::filesystem::path& path, const std::string& text, WriteTotals& totals) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return fmt::format("cannot write {}", path.string());
  ++totals.files;
  totals.uncompressed_bytes += text.size();
  totals.compressed_bytes += text.size();  // Cloud Storage and Azure blobs are not compressed
  return {};
}

std::string gcp_vm_name(const Environment& env, std::size_t index) {
  const Host& h = env.host(index);
  const auto& same = env.of(h.role);
  const auto pos = std::find(same.begin(), same.end(), index) - same.begin();
  return fmt::format("{}-{}", role_name(h.role), pos + 1);
}

std::string azure_mac(std::size_t index) { return fmt::format("000D3A{:06X}", 0x100000 + index); }

std::vector<AzureConnection> join_connections(const std::vector<FlowLine>& lines) {
  // Both directions of one connection on one NIC share the window, the start and the
  // unordered pair of endpoints.
  using Key = std::tuple<std::int64_t, std::uint32_t, std::int64_t, std::uint64_t, std::uint64_t, std::uint8_t>;
  std::map<Key, AzureConnection> joined;
  for (const auto& l : lines) {
    const std::uint64_t a = std::uint64_t{l.src} << 16 | l.sport, b = std::uint64_t{l.dst} << 16 | l.dport;
    const std::int64_t window = l.start - ((l.start % 60) + 60) % 60;
    const Key key{window, l.host, l.start, std::min(a, b), std::max(a, b), l.protocol};
    auto [it, fresh] = joined.try_emplace(key);
    AzureConnection& c = it->second;
    if (fresh) {
      // The initiator's port is the ephemeral, larger one (the router reads "client" alike).
      const bool src_initiates = l.sport >= l.dport;
      c.start = l.start;
      c.end = l.end;
      c.host = l.host;
      c.client = src_initiates ? l.src : l.dst;
      c.server = src_initiates ? l.dst : l.src;
      c.client_port = src_initiates ? l.sport : l.dport;
      c.server_port = src_initiates ? l.dport : l.sport;
      c.protocol = l.protocol;
      c.outbound = l.egress == src_initiates;
    }
    c.end = std::max(c.end, l.end);
    c.denied = c.denied || l.reject;
    if (l.src == c.client && l.sport == c.client_port) {
      c.packets_out += l.packets;
      c.bytes_out += l.bytes;
    } else {
      c.packets_back += l.packets;
      c.bytes_back += l.bytes;
    }
  }
  std::vector<AzureConnection> out;
  out.reserve(joined.size());
  for (auto& [key, c] : joined) out.push_back(c);
  return out;
}

}  // namespace flowlier::lab
