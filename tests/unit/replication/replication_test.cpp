#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "common/sha256_file.hpp"
#include "db/users_repo.hpp"
#include "imagestore/image_chain.hpp"
#include "imagestore/store/image_store.hpp"
#include "replication/file_download.hpp"
#include "replication/version_chain.hpp"
#include "replication/version_puller.hpp"
#include "tests/unit/replication/cutting_proxy.hpp"
#include "tests/unit/store/store_test_support.hpp"
#include "web/http_server.hpp"
#include "web/web_app.hpp"

using namespace bootherd;
using namespace bootherd::replication;
using imagestore::store::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

// Server A: image "base" with v1 and v2 (a differencing child with data of its own) in its data directory,
// the catalog both servers share, and its web service on 127.0.0.1.
struct SourceServer {
    SourceServer() {
        std::mt19937_64 rng(7);
        const auto raw = dir.path() / "base.raw";
        imagestore::store::testing::write_raw_image(raw, 64 * MiB, {{0, 2 * MiB}, {40 * MiB, 3 * MiB}}, rng);
        store.import_image("base", raw);
        const auto draft = store.edit("base");
        {
            auto chain = imagestore::open_image(store.absolute(draft.file_path).string(), false);
            REQUIRE_FALSE(
                chain->write(8 * MiB, imagestore::store::testing::random_bytes(3 * MiB, rng), false));
            chain->close();
        }
        store.commit("base");
        auth.ensure_admin();
        std::int64_t admin = 0;
        {
            auto session = store.catalog().session();
            admin = db::UsersRepo(session.database()).find_by_name(web::kAdminUser)->id;
        }
        admin_token = auth.create_token(admin, "replication").second;
        read_token = auth.create_token(admin, "metrics", db::kTokenScopeRead).second;
        auto session = store.catalog().session();
        server_b = session.servers().register_server({.name = "b", .iscsi_portal = "127.0.0.2:3260"}, 1).id;
    }
    ~SourceServer() {
        if (http) http->stop();
    }
    void start(std::shared_ptr<boost::asio::ssl::context> tls = nullptr) {
        web::HttpServerOptions options;
        options.endpoint = {boost::asio::ip::make_address("127.0.0.1"), 0};
        options.tls = std::move(tls);
        options.upload_dir = dir.path() / "data" / "tmp";
        options.workers = 2;
        http =
            std::make_unique<web::HttpServer>(std::move(options), web::make_router(context),
                                              [this](web::Request& request) { auth.authenticate(request); });
    }
    std::uint16_t port() const { return http->local_endpoint().port(); }
    std::string url(std::string_view scheme = "http") const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(port());
    }
    db::Version version(std::int64_t number) {
        auto session = store.catalog().session();
        const auto image = session.images().find_by_name("base");
        return *session.versions().find_by_number(image->id, number);
    }
    std::vector<VersionFile> chain_of(std::int64_t number) {
        auto session = store.catalog().session();
        return version_chain(session, version(number).id);
    }
    bool b_holds(std::int64_t number) {
        auto session = store.catalog().session();
        return session.servers().holds(server_b, version(number).id);
    }
    fs::path file(std::int64_t number) { return store.absolute(version(number).file_path); }

    TempDir dir;
    imagestore::store::ImageStore store{dir.path() / "data"};
    web::Authenticator auth{store.catalog()};
    web::JobRegistry jobs;
    web::ApiContext context{.store = store, .auth = auth, .jobs = jobs};
    std::unique_ptr<web::HttpServer> http;
    std::string admin_token;
    std::string read_token;
    std::int64_t server_b = 0;
};

// Server B's side: its own data directory, pulling through the shared catalog.
struct Destination {
    explicit Destination(SourceServer& a, PullerOptions extra = {}) {
        extra.data_dir = dir.path() / "data";
        extra.server_id = a.server_b;
        extra.plain_http_on_loopback = true;
        extra.timeouts = {.connect = std::chrono::seconds(5), .read = std::chrono::seconds(5)};
        fs::create_directories(extra.data_dir);
        puller.emplace(a.store.catalog(), extra);
    }
    fs::path file(SourceServer& a, std::int64_t number) {
        return dir.path() / "data" / a.version(number).file_path;
    }
    TempDir dir;
    std::optional<VersionPuller> puller;
};

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str());
}

// What a GET of the version file route answers, through the replication client.
std::string fetch_error(SourceServer& a, const std::string& target, const std::string& token,
                        std::uint64_t offset = 0) {
    try {
        download(
            {.peer = *parse_peer_url(a.url()), .target = target, .bearer_token = token, .offset = offset},
            nullptr, {}, {.head = [](const DownloadHead&) {}, .body = [](std::span<const char>) {}});
    } catch (const DownloadError& e) {
        return e.what();
    }
    return "ok";
}

}  // namespace

TEST_CASE("B pulls a differencing version after its parent: same bytes, verified, read-only, recorded") {
    SourceServer a;
    a.start();
    Destination b(a);
    const auto chain = a.chain_of(2);
    REQUIRE(chain.size() == 2);
    CHECK(chain[0].number == 1);
    CHECK(chain[0].sha256 == sha256_file(a.file(1)));  // what seal recorded is the file's hash
    CHECK(chain[1].sha256 == sha256_file(a.file(2)));
    CHECK_FALSE(a.b_holds(1));

    b.puller->pull({a.url(), a.admin_token}, chain);

    for (const std::int64_t number : {1, 2}) {
        const auto copy = b.file(a, number);
        CAPTURE(copy);
        REQUIRE(fs::exists(copy));
        CHECK(read_text(copy) == read_text(a.file(number)));
        CHECK(sha256_file(copy) == a.version(number).sha256);
        CHECK(fs::status(copy).permissions() == fs::perms::owner_read);
        CHECK_FALSE(fs::exists(copy.string() + ".partial"));
        CHECK(a.b_holds(number));
    }
    // Peers read B's copies: qemu-img finds v1 equal to A's, libvhdi opens the differencing v2.
    CHECK(run("qemu-img compare -f vhdx -F vhdx '" + a.file(1).string() + "' '" + b.file(a, 1).string() +
              "'") == 0);
    CHECK(run("vhdiinfo '" + b.file(a, 2).string() + "'") == 0);

    // Held already: a second pull moves nothing (the source is gone).
    a.http->stop();
    CHECK_NOTHROW(b.puller->pull({a.url(), a.admin_token}, chain));
}

TEST_CASE("an interrupted pull resumes from its partial file with a Range request") {
    SourceServer a;
    a.start();
    const auto size = fs::file_size(a.file(1));
    REQUIRE(size > 4 * MiB);
    testing::CuttingProxy proxy({boost::asio::ip::make_address("127.0.0.1"), a.port()}, 2 * MiB);
    Destination b(a, {.attempts = 1});
    const auto chain = a.chain_of(1);
    const PullSource source{"http://127.0.0.1:" + std::to_string(proxy.port()), a.admin_token};

    CHECK_THROWS_WITH_AS(b.puller->pull(source, chain), doctest::Contains("kept to resume"), PullError);
    const auto partial = b.file(a, 1).string() + ".partial";
    REQUIRE(fs::exists(partial));
    const auto kept = fs::file_size(partial);
    CHECK(kept > 0);
    CHECK(kept < size);
    CHECK_FALSE(fs::exists(b.file(a, 1)));
    CHECK_FALSE(a.b_holds(1));

    b.puller->pull(source, chain);
    const auto exchanges = proxy.exchanges();
    REQUIRE(exchanges.size() == 2);
    CHECK(exchanges[0].request.find("Range:") == std::string::npos);
    CHECK(exchanges[1].request.find("Range: bytes=" + std::to_string(kept) + "-\r\n") != std::string::npos);
    CHECK(exchanges[1].answer_bytes < size - kept + 4096);  // the rest and a header, not the whole file
    CHECK(exchanges[0].answer_bytes + exchanges[1].answer_bytes < size + 2 * MiB);
    CHECK(read_text(b.file(a, 1)) == read_text(a.file(1)));
    CHECK(a.b_holds(1));
    CHECK_FALSE(fs::exists(partial));
}

TEST_CASE("a corrupted source is refused: the copy is deleted and nothing is recorded") {
    SourceServer a;
    a.start();
    Destination b(a);
    const auto chain = a.chain_of(2);
    const auto file = a.file(2);
    fs::permissions(file, fs::perms::owner_write, fs::perm_options::add);
    {
        std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
        io.seekg(static_cast<std::streamoff>(fs::file_size(file) / 2));
        const char c = static_cast<char>(io.get());
        io.seekp(static_cast<std::streamoff>(fs::file_size(file) / 2));
        io.put(static_cast<char>(c ^ 0x01));
    }
    const auto got = sha256_file(file);
    REQUIRE(got != chain[1].sha256);

    CHECK_THROWS_WITH_AS(b.puller->pull({a.url(), a.admin_token}, chain),
                         doctest::Contains(("SHA-256 expected " + chain[1].sha256 + ", got " + got).c_str()),
                         PullError);
    CHECK(a.b_holds(1));  // the parent was fine
    CHECK_FALSE(a.b_holds(2));
    CHECK_FALSE(fs::exists(b.file(a, 2)));
    CHECK_FALSE(fs::exists(b.file(a, 2).string() + ".partial"));

    // A recorded hash that disagrees with the source's ETag stops the pull before any byte.
    auto wrong = chain;
    wrong[1].sha256 = std::string(64, 'a');
    CHECK_THROWS_WITH_AS(b.puller->pull({a.url(), a.admin_token}, wrong),
                         doctest::Contains(("the source's copy has SHA-256 " + chain[1].sha256).c_str()),
                         PullError);
    CHECK_FALSE(fs::exists(b.file(a, 2).string() + ".partial"));
}

TEST_CASE("the version file route: admin tokens, sealed versions, ranges") {
    SourceServer a;
    a.start();
    const std::string v1 = "/api/v1/images/base/versions/1/file";
    const auto size = fs::file_size(a.file(1));
    CHECK(fetch_error(a, v1, a.admin_token) == "ok");
    CHECK(fetch_error(a, v1, a.read_token).starts_with("HTTP 403"));
    CHECK(fetch_error(a, v1, "bogus").starts_with("HTTP 401"));
    CHECK(fetch_error(a, "/api/v1/images/base/versions/9/file", a.admin_token).starts_with("HTTP 404"));
    CHECK(fetch_error(a, "/api/v1/images/none/versions/1/file", a.admin_token).starts_with("HTTP 404"));
    CHECK(fetch_error(a, "/api/v1/images/base/versions/x/file", a.admin_token).starts_with("HTTP 404"));
    a.store.edit("base");
    CHECK(fetch_error(a, "/api/v1/images/base/versions/3/file", a.admin_token).starts_with("HTTP 404"));
    CHECK(fetch_error(a, v1, a.admin_token, size).starts_with("HTTP 416"));

    // A range from an offset: 206 with the file's tail, and the ETag is the recorded SHA-256.
    std::string tail;
    DownloadHead head;
    download({.peer = *parse_peer_url(a.url()),
              .target = v1,
              .bearer_token = a.admin_token,
              .offset = size - 1000},
             nullptr, {},
             {.head = [&](const DownloadHead& h) { head = h; },
              .body = [&](std::span<const char> bytes) { tail.append(bytes.data(), bytes.size()); }});
    CHECK(head.offset == size - 1000);
    CHECK(head.total == size);
    CHECK(head.sha256 == a.version(1).sha256);
    CHECK(tail == read_text(a.file(1)).substr(size - 1000));
}

TEST_CASE("HTTPS: the source must verify against peer_ca; plain HTTP only where allowed") {
    if (run("command -v openssl") != 0) return;
    SourceServer a;
    TempDir keys;
    const auto make_cert = [&](const std::string& name) {
        const auto base = (keys.path() / name).string();
        REQUIRE(run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + name +
                    " -addext "
                    "subjectAltName=IP:127.0.0.1 -keyout '" +
                    base + ".key' -out '" + base + ".pem'") == 0);
        return base;
    };
    const auto good = make_cert("a");
    const auto other = make_cert("other");
    auto tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    tls->use_certificate_chain_file(good + ".pem");
    tls->use_private_key_file(good + ".key", boost::asio::ssl::context::pem);
    a.start(tls);
    const auto chain = a.chain_of(1);
    {
        Destination b(a, {.peer_ca = other + ".pem"});
        CHECK_THROWS_WITH_AS(b.puller->pull({a.url("https"), a.admin_token}, chain), doctest::Contains("TLS"),
                             PullError);
        CHECK_FALSE(a.b_holds(1));
    }
    {
        Destination b(a, {.peer_ca = good + ".pem"});
        b.puller->pull({a.url("https"), a.admin_token}, chain);
        CHECK(read_text(b.file(a, 1)) == read_text(a.file(1)));
        CHECK(a.b_holds(1));
    }
    {
        PullerOptions options{.data_dir = keys.path(), .server_id = a.server_b};
        VersionPuller strict(a.store.catalog(), options);
        CHECK_THROWS_WITH_AS(strict.pull({"http://127.0.0.1:1", a.admin_token}, chain),
                             doctest::Contains("plain HTTP"), PullError);
    }
}

TEST_CASE("a cancelled pull stops at its next piece of data, and the server's next puller completes it") {
    SourceServer a;
    a.start();
    const auto chain = a.chain_of(1);
    Destination b(a);
    b.puller->cancel();  // as a stopping server does; before the pull, so that the test does not race it
    CHECK_THROWS_WITH_AS(b.puller->start({a.url(), a.admin_token}, chain).get(),
                         doctest::Contains("stopped (the server is stopping)"), PullError);
    CHECK_FALSE(fs::exists(b.file(a, 1)));
    CHECK_FALSE(a.b_holds(1));
    CHECK_THROWS_AS(b.puller->pull({a.url(), a.admin_token}, chain), PullError);  // and stays stopped

    VersionPuller restarted(
        a.store.catalog(),
        {.data_dir = b.dir.path() / "data", .server_id = a.server_b, .plain_http_on_loopback = true});
    restarted.pull({a.url(), a.admin_token}, chain);
    CHECK(read_text(b.file(a, 1)) == read_text(a.file(1)));
    CHECK(a.b_holds(1));
}

TEST_CASE("pulls started twice share one run") {
    SourceServer a;
    a.start();
    Destination b(a);
    const auto chain = a.chain_of(2);
    auto first = b.puller->start({a.url(), a.admin_token}, chain);
    auto second = b.puller->start({a.url(), a.admin_token}, chain);
    first.get();
    second.get();
    CHECK(a.b_holds(2));
}

TEST_CASE("peer URLs and answer headers are parsed strictly") {
    auto url = parse_peer_url("https://10.0.0.5:8443/");
    REQUIRE(url);
    CHECK(url->tls);
    CHECK(url->host == "10.0.0.5");
    CHECK(url->port == 8443);
    CHECK_FALSE(url->is_loopback());
    url = parse_peer_url("http://[::1]:80");
    REQUIRE(url);
    CHECK(url->host == "::1");
    CHECK(url->is_loopback());
    CHECK(url->host_header() == "[::1]:80");
    CHECK(parse_peer_url("https://boot.example")->port == 443);
    for (const char* bad :
         {"", "ftp://a", "https://", "https://a:", "https://a:0", "https://a:70000", "https://a/path",
          "https://u@a", "https://[::1", "https://[zz]:1", "https://a:1x"})
        CHECK_MESSAGE(!parse_peer_url(bad), bad);

    auto range = parse_content_range("bytes 10-99/100");
    REQUIRE(range);
    CHECK((range->first == 10 && range->last == 99 && range->total == 100));
    for (const char* bad : {"bytes 10-99/99", "bytes 10-9/100", "bytes */100", "items 0-1/2", "bytes 1-2",
                            "bytes -1-2/3", "bytes 0-1/x"})
        CHECK_MESSAGE(!parse_content_range(bad), bad);
    const std::string hex(64, 'A');
    CHECK(sha256_etag("\"" + hex + "\"") == std::string(64, 'a'));
    CHECK_FALSE(sha256_etag("W/\"" + hex + "\""));
    CHECK_FALSE(sha256_etag(hex));
    CHECK_FALSE(sha256_etag("\"" + std::string(64, 'g') + "\""));
}
