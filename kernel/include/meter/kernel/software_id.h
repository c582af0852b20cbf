// Software identification and signatures (libsodium): the SHA-256 of the kernel binary and of
// every legally relevant plugin, combined into one identifier the display shows and every port
// reads (1-0:0.2.0 firmware identifier, 1-0:0.2.8 signature); and the OEM's Ed25519 signatures
// that a legally relevant plugin must carry.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "meter/kernel/result.h"

namespace meter::kernel {

using Sha256 = std::array<std::uint8_t, 32>;
using PublicKey = std::array<std::uint8_t, 32>;
using SecretKey = std::array<std::uint8_t, 64>;
using Signature = std::array<std::uint8_t, 64>;

std::string to_hex(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& bytes) {
  return to_hex(bytes.data(), bytes.size());
}
/// Parses exactly N bytes of hex (whitespace around it is ignored).
template <std::size_t N>
Result<std::array<std::uint8_t, N>> from_hex(std::string_view text);

Result<std::vector<std::uint8_t>> read_binary(const std::filesystem::path& path);
Sha256 sha256(const std::uint8_t* data, std::size_t size);
Result<Sha256> sha256_file(const std::filesystem::path& path);
/// SHA-256 of what the loader maps from an ELF file: its size, its program headers and its
/// PT_LOAD segments (code and data), in order; debug sections and symbols, which never run, are
/// left out. Not ELF: the whole file. The kernel's and every plugin's identity, and what a
/// plugin's signature signs.
Result<Sha256> sha256_loaded_image(const std::filesystem::path& path);

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key{};
};
KeyPair make_key_pair();
Signature sign(const std::vector<std::uint8_t>& message, const SecretKey& key);
bool verify(const std::vector<std::uint8_t>& message, const Signature& signature,
            const PublicKey& key);

/// What the host learns from one read of a plugin: its sha256_loaded_image, and whether its
/// loaded image embeds the manifest beside it.
struct PluginScan {
  Sha256 sha256{};
  bool manifest_embedded = false;  ///< the manifest text occurs in the file
};
Result<PluginScan> scan_plugin(const std::filesystem::path& plugin, std::string_view manifest);

/// A plugin's signature signs its SHA-256, domain-separated, so the host reads the file once
/// for both the software identification and the signature.
Signature sign_plugin(const Sha256& plugin_sha256, const SecretKey& key);
bool verify_plugin(const Sha256& plugin_sha256, const Signature& signature, const PublicKey& key);

/// The signature file of a plugin: "<id>.sig" beside "<id>.so", hex text.
std::filesystem::path signature_path(const std::filesystem::path& plugin);

/// One legally relevant component and its hash.
struct IdentifiedComponent {
  std::string name;     ///< "kernel" or a plugin id
  std::string version;
  Sha256 sha256{};
};

/// The meter's software identification.
struct SoftwareIdentity {
  std::vector<IdentifiedComponent> components;  ///< the kernel first, then plugins by id
  Sha256 combined{};  ///< SHA-256 over every component's name, version and hash, in order

  /// What the display shows: "SW " and the first 8 hex digits of the combined hash.
  std::string display_text() const;
  std::string combined_hex() const { return to_hex(combined); }
};

/// Combines components (kernel first, the rest sorted by name) into one identity.
SoftwareIdentity identify(IdentifiedComponent kernel, std::vector<IdentifiedComponent> plugins);

}  // namespace meter::kernel
