#pragma once
// Decodes Azure flow logs: NSG flow logs (versions 1 and 2) and VNet flow logs.
//
// Input: a PT1H.json blob, {"records":[...]} as one document, or several such
// documents (or bare record objects) one per line or concatenated. Everything is
// buffered and decoded at finish(); a document over max_document_bytes is rejected
// whole (line_too_long). Each record is decoded by its own shape ("properties.flows":
// NSG, "flowRecords.flows": VNet), so either decoder reads either kind and tags each
// record with the format it really has; the decoder's format() is the one asked for.
//
// One FlowRecord per flow tuple. source_line is the tuple's ordinal in the input
// (1-based, counting every tuple, good or bad). Per record:
//  NSG:  interface_id = flows[].flows[].mac; rule = flows[].rule; account_id = the
//        subscription id in resourceId; version = properties.Version; the NSG name (last
//        resourceId segment) -> extra "nsg" (an NSG is a rule set, not a network, so
//        vpc_id stays empty).
//  VNet: interface_id = macAddress; rule = flowGroups[].rule; account_id = subscription
//        of flowLogResourceID (else targetResourceID); vpc_id / subnet_id = the
//        virtualNetworks / subnets names in targetResourceID; version = flowLogVersion;
//        extras "acl_id" (flows[].aclID) and "encryption" (tuple field 9).
// Per tuple: start_ns = end_ns = the tuple time (seconds, or milliseconds when it has
// 13 or more digits); direction I/O -> ingress/egress; NSG decision A/D -> accept/reject;
// state B/C/E (VNet also D = denied, which makes the action reject); packets/bytes =
// src->dst (sent), packets_reverse/bytes_reverse = dst->src (received), each present
// only when its field is non-empty; protocol T = 6, U = 17 or an IANA number; ports
// may be empty (absent).
//
// Rejects: a bad tuple (wrong_field_count, bad_address, bad_port, bad_protocol,
// bad_number, bad_value, bad_time) skips only that tuple; a record of the wrong shape
// (invalid_json, missing_field) skips that record, numbered by the next tuple ordinal;
// JSON that does not parse or is truncated stops the input there (invalid_json), after
// the records before it were delivered.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/Decoder.hpp"
#include "pipeline/InputFormat.hpp"

namespace flowlier::pipeline::formats {

struct TupleError {
  RejectReason reason;
  std::string message;  // names the tuple field
};

// Fill the tuple's own fields of `out` (addresses, ports, protocol, time, direction,
// action, state, counters, extra "encryption"); record-level fields are left alone.
// 8 (v1) or 13 (v2) fields for NSG, 13 for VNet. Allocates only on error (and for
// the VNet encryption extra).
std::optional<TupleError> parse_nsg_flow_tuple(std::string_view tuple, FlowRecord& out);
std::optional<TupleError> parse_vnet_flow_tuple(std::string_view tuple, FlowRecord& out);

// The segment after `key` (matched case-insensitively) in an Azure resource id such
// as /SUBSCRIPTIONS/<id>/RESOURCEGROUPS/<rg>/...; empty when absent.
std::string_view azure_resource_segment(std::string_view resource_id, std::string_view key);

class AzureDecoder final : public Decoder {
 public:
  AzureDecoder(Format format, const DecoderOptions& options);  // azure_nsg or azure_vnet
  ~AzureDecoder() override;
  AzureDecoder(const AzureDecoder&) = delete;
  AzureDecoder& operator=(const AzureDecoder&) = delete;

  Format format() const override { return format_; }
  void feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) override;
  void finish(DecodeSink& sink) override;

 private:
  struct Impl;  // keeps simdjson out of this header
  Format format_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowlier::pipeline::formats
