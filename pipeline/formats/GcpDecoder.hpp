#pragma once
// Decodes GCP VPC flow logs: Cloud Logging LogEntry objects whose jsonPayload is a
// flow record (a bare jsonPayload object, as some exports write it, is accepted too).
//
// Input shapes, chosen by the first non-blank line:
//  - it is one whole object ("{...}"): JSON Lines. Each line is decoded as it arrives;
//    source_line is the line number. A line holding an array decodes each element.
//  - anything else ("[", "{" alone, a pretty-printed object): the input is buffered and
//    decoded at finish(), as one JSON array of entries, one object, or several
//    concatenated objects; source_line is the entry's ordinal (1-based).
//
// Mapping (one FlowRecord per entry, format gcp_vpc):
//  connection.{src_ip, dest_ip, src_port, dest_port, protocol} -> addresses, ports,
//    protocol (src_ip and dest_ip are required; ports/protocol absent when missing, e.g. ICMP);
//  bytes_sent, packets_sent, rtt_msec (int64 as JSON strings or numbers) -> bytes,
//    packets, rtt_ms; start_time/end_time (RFC 3339) -> start_ns/end_ns; when
//    end_time is missing, the LogEntry timestamp (Cloud Logging sets it to end_time)
//    stands in for it;
//  reporter SRC/DEST/SRC_GATEWAY/DEST_GATEWAY -> reporter, and direction egress for
//    SRC*, ingress for DEST*;
//  the reporting side's <side>_instance {vm_name, project_id, region, zone} ->
//    interface_id, account_id, region, az_id; <side>_vpc {vpc_name, subnetwork_name,
//    project_id} -> vpc_id, subnet_id (account_id when the instance has none); for a
//    gateway reporter <side>_gateway {name, project_id, region, vpc_name}; the LogEntry's
//    resource.labels {project_id, subnetwork_name} fill what is still empty;
//  flow_sampling, or sampling_rate, in (0, 1] -> sampling_rate (default 1.0);
//  extras: src_country, dest_country, peer_vm, peer_project, peer_vpc (the
//    non-reporting side), src_/dest_gke_cluster, _gke_namespace, _gke_pod.
// Action stays unknown: VPC flow logs carry no firewall verdict.
// No deduplication here: GCP reports a flow between two logged VMs from both ends; the
// reporter field lets a later stage drop one of the pair.
//
// Rejects: invalid_json, missing_field (no connection, src_ip or dest_ip), bad_address,
// bad_port, bad_protocol, bad_number, bad_value (reporter, sampling), bad_time (unparsable,
// or end before start), line_too_long (line over max_line_bytes or buffered document
// over max_document_bytes). Messages name the field.
#include <memory>

#include "pipeline/Decoder.hpp"
#include "pipeline/InputFormat.hpp"

namespace flowlier::pipeline::formats {

class GcpDecoder final : public Decoder {
 public:
  explicit GcpDecoder(const DecoderOptions& options);
  ~GcpDecoder() override;
  GcpDecoder(const GcpDecoder&) = delete;
  GcpDecoder& operator=(const GcpDecoder&) = delete;

  Format format() const override { return Format::gcp_vpc; }
  void feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) override;
  void finish(DecodeSink& sink) override;

 private:
  struct Impl;  // keeps simdjson out of this header
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowlier::pipeline::formats
