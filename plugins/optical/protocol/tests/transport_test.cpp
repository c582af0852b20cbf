// The client and the server over real descriptors: TCP on 127.0.0.1 and a pseudo-terminal, the
// server side on a thread with a bounded loop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <thread>

#include "fake_endpoint.h"
#include "hex.h"
#include "meter/c1218/client.h"
#include "meter/c1218/transport.h"
#include "serve.h"

namespace meter::c1218 {
namespace {

using namespace std::chrono_literals;
using test::FakeEndpoint;
using test::hex;

void run_session(Client& client, FakeEndpoint& endpoint) {
  auto identity = client.identify();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->version, 1);
  auto granted = client.negotiate(128, 4, std::vector<std::uint8_t>{6});
  ASSERT_TRUE(granted.ok()) << granted.error().message;
  ASSERT_TRUE(client.logon(2, "shop", "secret").ok());
  std::vector<std::uint8_t> data(300);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
  auto written = client.write(7, data);
  ASSERT_TRUE(written.ok()) << written.error().message;
  auto read = client.read(7);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, data);
  EXPECT_EQ(endpoint.tables[7], data);
  auto refused = client.read(99);
  EXPECT_EQ(refused.error().code, ResponseCode::onp);
  ASSERT_TRUE(client.terminate().ok());
  EXPECT_EQ(client.counters().retries, 0U);
}

TEST(C1218Tcp, ClientAndServerOverALoopbackSocket) {
  auto listener = TcpListener::listen("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  ASSERT_NE(listener->port(), 0);

  FakeEndpoint endpoint;
  Server server(endpoint);
  std::atomic<bool> stop{false};
  std::thread meter([&] {
    auto link = listener->accept(Clock::now() + 10s);
    if (link) test::serve(server, *link, stop, 30s);
  });

  {
    auto link = tcp_connect("127.0.0.1", listener->port(), Clock::now() + 5s);
    ASSERT_TRUE(link.ok()) << link.error().message;
    Client client(*link);
    run_session(client, endpoint);
  }  // closing the client's socket ends the server's loop
  stop = true;
  meter.join();
  EXPECT_EQ(server.counters().sessions, 1U);
  EXPECT_EQ(server.counters().naks_sent, 0U);
  EXPECT_EQ(endpoint.logoffs, 1);
}

TEST(C1218Tcp, ConnectingToAClosedPortFails) {
  std::uint16_t port = 0;
  {
    auto listener = TcpListener::listen("127.0.0.1", 0);
    ASSERT_TRUE(listener.ok());
    port = listener->port();
  }  // closed: nothing listens on `port` now
  const auto link = tcp_connect("127.0.0.1", port, Clock::now() + 2s);
  ASSERT_FALSE(link.ok());
  EXPECT_NE(link.error().message.find("cannot connect"), std::string::npos);
}

TEST(C1218Tcp, AcceptGivesUpAtItsDeadline) {
  auto listener = TcpListener::listen("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok());
  const auto none = listener->accept(Clock::now());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::timeout);
}

TEST(C1218FdTransport, ReadReportsTheOtherSideClosing) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  FdTransport reader(fds[0]);
  ::close(fds[1]);
  std::array<std::uint8_t, 4> buffer{};
  const auto got = reader.read(buffer, Clock::now() + 1s);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::closed);
}

TEST(C1218FdTransport, ReadReturnsNothingAtItsDeadline) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  FdTransport reader(fds[0]);
  FdTransport writer(fds[1]);
  std::array<std::uint8_t, 4> buffer{};
  const auto none = reader.read(buffer, Clock::now());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0U);
  ASSERT_TRUE(writer.write(hex("06 15")).ok());
  const auto two = reader.read(buffer, Clock::now() + 1s);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, 2U);
}

TEST(C1218FdTransport, ClientAndServerOverAPseudoTerminal) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string device = ::ptsname(master);
  FdTransport meter_side(master);

  auto probe = FdTransport::open_device(device, 9600);
  ASSERT_TRUE(probe.ok()) << probe.error().message;

  FakeEndpoint endpoint;
  Server server(endpoint);
  std::atomic<bool> stop{false};
  std::thread meter([&] { test::serve(server, meter_side, stop, 30s); });
  Client client(*probe);
  run_session(client, endpoint);
  stop = true;
  meter.join();
  EXPECT_EQ(server.counters().sessions, 1U);
}

TEST(C1218FdTransport, OpenDeviceRefusesAMissingDeviceAndAnUnknownSpeed) {
  const auto missing = FdTransport::open_device("/dev/nonexistent-optical-probe");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::io);
  EXPECT_EQ(FdTransport::open_device("/dev/null", 12345).error().kind,
            ErrorKind::invalid_argument);
  EXPECT_TRUE(FdTransport::open_device("/dev/null").ok()) << "not a terminal: used as is";
}

}  // namespace
}  // namespace meter::c1218
