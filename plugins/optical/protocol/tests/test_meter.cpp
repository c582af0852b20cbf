// A C12.18 meter on 127.0.0.1 for tests with third-party clients (termineter): listens on a free
// port, prints it, serves one connection with the test endpoint, prints what happened and exits.
// Exit status 0 when a session was held and no packet was refused or answered NAK.
#include <cstdio>
#include <string>

#include "fake_endpoint.h"
#include "meter/c1218/server.h"
#include "meter/c1218/transport.h"
#include "serve.h"

int main() {
  using namespace meter::c1218;
  using namespace std::chrono_literals;
  auto listener = TcpListener::listen("127.0.0.1", 0);
  if (!listener) {
    std::fprintf(stderr, "test meter: %s\n", listener.error().message.c_str());
    return 2;
  }
  std::printf("%u\n", static_cast<unsigned>(listener->port()));
  std::fflush(stdout);

  test::FakeEndpoint endpoint;
  ServerConfig config;
  config.max_packet_size = 512;
  config.max_packets = 2;
  Server server(endpoint, config);
  server.set_log([](std::string_view line) {
    std::fprintf(stderr, "test meter: %.*s\n", static_cast<int>(line.size()), line.data());
  });
  auto link = listener->accept(Clock::now() + 20s);
  if (!link) {
    std::fprintf(stderr, "test meter: %s\n", link.error().message.c_str());
    return 2;
  }
  const std::atomic<bool> stop{false};
  test::serve(server, *link, stop, 30s);

  const auto& c = server.counters();
  std::uint64_t refused = 0;
  for (auto n : c.refused) refused += n;
  std::printf("requests %llu refused-requests %llu sessions %llu naks %llu bad-input %llu "
              "table7 %s\n",
              static_cast<unsigned long long>(c.requests),
              static_cast<unsigned long long>(c.requests_refused),
              static_cast<unsigned long long>(c.sessions),
              static_cast<unsigned long long>(c.naks_sent),
              static_cast<unsigned long long>(refused),
              std::string(endpoint.tables[7].begin(), endpoint.tables[7].end()).c_str());
  return c.sessions >= 1 && refused == 0 && c.naks_sent == 0 ? 0 : 1;
}
