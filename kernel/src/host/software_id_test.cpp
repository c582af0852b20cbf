// Software identification and signatures.
#include "meter/kernel/software_id.h"

#include <gtest/gtest.h>

#include <fstream>

namespace meter::kernel {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(SoftwareId, Sha256MatchesTheStandardVector) {
  const auto data = bytes("abc");
  EXPECT_EQ(to_hex(sha256(data.data(), data.size())),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SoftwareId, ASignatureVerifiesOnlyTheSignedBytesWithTheRightKey) {
  const KeyPair oem = make_key_pair();
  const auto plugin = bytes("plugin binary");
  const Signature s = sign(plugin, oem.secret_key);
  EXPECT_TRUE(verify(plugin, s, oem.public_key));
  EXPECT_FALSE(verify(bytes("plugin binary!"), s, oem.public_key));
  EXPECT_FALSE(verify(plugin, s, make_key_pair().public_key));
}

TEST(SoftwareId, HexRoundTripsAndRejectsGarbage) {
  const KeyPair oem = make_key_pair();
  EXPECT_EQ(*from_hex<32>(to_hex(oem.public_key) + "\n"), oem.public_key);
  EXPECT_FALSE(from_hex<32>("zz"));
  EXPECT_FALSE(from_hex<32>(std::string(64, 'g')));
}

TEST(SoftwareId, TheCombinedIdChangesWithAnyComponentAndNotWithOrder) {
  const Sha256 k{1}, a{2}, b{3};
  const auto one = identify({"kernel", "0.1.0", k}, {{"tou", "1.0.0", a}, {"demand", "1.0.0", b}});
  const auto same = identify({"kernel", "0.1.0", k}, {{"demand", "1.0.0", b}, {"tou", "1.0.0", a}});
  const auto other = identify({"kernel", "0.1.0", k}, {{"tou", "1.0.1", a}, {"demand", "1.0.0", b}});
  EXPECT_EQ(one.combined, same.combined);
  EXPECT_NE(one.combined, other.combined);
  EXPECT_EQ(one.components.front().name, "kernel");
  EXPECT_EQ(one.display_text(), "SW " + one.combined_hex().substr(0, 8));
}

}  // namespace
// The software identification covers what runs: the loadable segments of the ELF. A file that
// is not ELF is hashed whole.
TEST(SoftwareId, LoadedImageHashCoversTheLoadableSegmentsOnly) {
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  auto image = sha256_loaded_image(self);
  auto whole = sha256_file(self);
  ASSERT_TRUE(image && whole);
  EXPECT_NE(*image, *whole) << "debug sections and symbols are not part of the image";
  EXPECT_EQ(*image, *sha256_loaded_image(self)) << "the same binary, the same identity";
  EXPECT_EQ(*image, scan_plugin(self, {})->sha256);

  // One byte appended to a copy changes its identity, though nothing of it is loaded.
  const auto copy = std::filesystem::temp_directory_path() / "meter-elf-copy";
  std::filesystem::copy_file(self, copy, std::filesystem::copy_options::overwrite_existing);
  std::ofstream(copy, std::ios::binary | std::ios::app) << '\0';
  EXPECT_NE(*sha256_loaded_image(copy), *image);
  std::filesystem::remove(copy);

  const auto text = std::filesystem::temp_directory_path() / "meter-not-elf.txt";
  {
    std::ofstream out(text);
    out << "not an executable";
  }
  EXPECT_EQ(*sha256_loaded_image(text), *sha256_file(text));
  std::filesystem::remove(text);
  EXPECT_FALSE(sha256_loaded_image("/nonexistent/meterd"));
}

TEST(SoftwareId, APluginSignatureSignsTheFilesHashUnderItsOwnDomain) {
  const auto oem = make_key_pair();
  const auto digest = sha256(bytes("plugin binary").data(), 13);
  const auto s = sign_plugin(digest, oem.secret_key);
  EXPECT_TRUE(verify_plugin(digest, s, oem.public_key));
  auto altered = digest;
  altered[0] ^= 1;
  EXPECT_FALSE(verify_plugin(altered, s, oem.public_key));
  EXPECT_FALSE(verify_plugin(digest, s, make_key_pair().public_key));
  // A signature over the bare digest (another protocol's) is not a plugin signature.
  EXPECT_FALSE(verify_plugin(digest, sign(std::vector<std::uint8_t>(digest.begin(), digest.end()),
                                          oem.secret_key),
                             oem.public_key));
}

TEST(SoftwareId, OneScanHashesTheFileAndFindsTheManifestAcrossChunks) {
  const auto file = std::filesystem::temp_directory_path() / "meter-scan-test.bin";
  std::string content(200'000, 'x');
  const std::string manifest = "[plugin]\nid = \"scan\"\n";
  content.replace(65'536 - 7, manifest.size(), manifest);  // straddles the first chunk's end
  {
    std::ofstream out(file, std::ios::binary);
    out << content;
  }
  auto scan = scan_plugin(file, manifest);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->manifest_embedded);
  EXPECT_EQ(scan->sha256, *sha256_file(file)) << "not ELF: the whole file";
  EXPECT_FALSE(scan_plugin(file, "[plugin]\nid = \"other\"\n")->manifest_embedded);
  std::filesystem::remove(file);
}

}  // namespace meter::kernel
