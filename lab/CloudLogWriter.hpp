#pragma once
// Writers of the simulated estate in the other clouds' real forms and file layouts: GCP
// VPC flow logs plus Firewall Rules Logging (Cloud Storage sink shards), Azure NSG flow
// logs v2 and VNet flow logs (PT1H.json blobs per NIC and hour). They take the same
// FlowLines the AWS writer takes (one record per ENI, direction and 60 s window), so
// every format carries the same traffic. Not thread-safe; one writer per run.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lab/Environment.hpp"
#include "lab/FlowLogWriter.hpp"

namespace flowlier::lab {

// What a writer has written so far.
struct WriteTotals {
  std::uint64_t records = 0;  // entries (GCP) or flow tuples (Azure)
  std::uint64_t files = 0;
  std::uint64_t uncompressed_bytes = 0;
  std::uint64_t compressed_bytes = 0;
};

class CloudLogWriter {
 public:
  virtual ~CloudLogWriter() = default;
  // Writes the records of the hour starting at hour_start. Returns an empty string on
  // success, else what failed.
  virtual std::string write_hour(std::int64_t hour_start, const std::vector<FlowLine>& lines, WriteTotals& totals) = 0;
  // The interface id the format gives host `index` (GCP VM name, Azure MAC).
  virtual std::string interface_id(std::size_t index) const = 0;
};

// nullptr for the AWS formats (FlowLogWriter writes those itself).
std::unique_ptr<CloudLogWriter> make_cloud_log_writer(const Environment& env, LogFormat format,
                                                      std::filesystem::path out_dir, std::uint64_t seed);

// Writes `text` to out_dir / relative (creating directories) and counts it.
std::string write_log_file(const std::filesystem::path& path, const std::string& text, WriteTotals& totals);

// The GCP VM name of host `index`: its role and 1-based position, e.g. "web-3".
std::string gcp_vm_name(const Environment& env, std::size_t index);
// The Azure MAC address of host `index`: 12 upper-case hex digits, Azure's prefix 000D3A.
std::string azure_mac(std::size_t index);

// One connection on one host's NIC inside one 60 s window, as Azure reports it: the
// FlowLines of both directions joined, oriented from the initiator (the side whose port
// is the ephemeral, larger one).
struct AzureConnection {
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::uint32_t host = 0;
  std::uint32_t client = 0, server = 0;
  std::uint16_t client_port = 0, server_port = 0;
  std::uint8_t protocol = 6;
  bool outbound = false;  // the host is the initiator
  bool denied = false;
  std::uint32_t packets_out = 0, packets_back = 0;  // initiator -> responder, and back
  std::uint64_t bytes_out = 0, bytes_back = 0;
};

// Joins one hour's FlowLines into connections, ordered by (window, host, start, tuple).
std::vector<AzureConnection> join_connections(const std::vector<FlowLine>& lines);

}  // namespace flowlier::lab
