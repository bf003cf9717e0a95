// `bootherd token create|list|revoke`: API tokens for scripts, written to the catalog directly (a running
// `serve` checks every request against it).
#include <charconv>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "db/api_tokens_repo.hpp"
#include "db/catalog.hpp"
#include "db/error.hpp"
#include "db/users_repo.hpp"
#include "tools/bootherd/cli_output.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"
#include "web/api/render.hpp"
#include "web/auth.hpp"

namespace bootherd::cli {
namespace {

struct TokenOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string name;
    std::string user{web::kAdminUser};
    std::string scope{db::kTokenScopeAdmin};
    std::string expires;
    std::string token;  // revoke: id or name
    bool json = false;
    bool yes = false;
};

// "90d", "12h", "30m", "3600s", "2w" (a bare number is days): 1 s to 10 years.
std::chrono::seconds parse_lifetime(const std::string& text) {
    std::int64_t count = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
    const std::string unit(end, text.data() + text.size());
    std::int64_t scale = 0;
    if (unit.empty() || unit == "d") scale = 86400;
    if (unit == "s") scale = 1;
    if (unit == "m") scale = 60;
    if (unit == "h") scale = 3600;
    if (unit == "w") scale = 7 * 86400;
    constexpr std::int64_t kMaxSeconds = 10LL * 366 * 86400;
    if (error != std::errc{} || end == text.data() || scale == 0 || count < 1 || count > kMaxSeconds / scale)
        throw UsageError("--expires: '" + text +
                         "' is not a lifetime such as 90d, 12h, 30m or 2w (at most 10 years)");
    return std::chrono::seconds(count * scale);
}

db::Catalog open_catalog(const TokenOptions& o) {
    return db::Catalog::open(catalog_location(o.data, o.catalog));
}

int run_create(const TokenOptions& o) {
    std::optional<std::chrono::seconds> lifetime;
    if (!o.expires.empty()) lifetime = parse_lifetime(o.expires);
    auto catalog = open_catalog(o);
    std::optional<db::User> user;
    {
        auto session = catalog.session();
        user = db::UsersRepo(session.database()).find_by_name(o.user);
    }
    if (!user)
        throw db::NotFound("no web user '" + o.user + "' (`bootherd admin set-password --user " + o.user +
                           "` creates one)");
    auto [token, secret] = web::Authenticator(catalog).create_token(user->id, o.name, o.scope, lifetime);
    if (o.json) {
        auto out = web::token_json(token);
        out["token"] = secret;
        print_json(std::cout, out);
        return 0;
    }
    std::cout << "token " << token.id << " (" << token.name << ", " << token.scope << ", user "
              << token.user_name << ", expires " << local_time(token.expires_at) << "):\n"
              << secret << "\n(shown once: only its hash is kept)\n";
    return 0;
}

int run_list(const TokenOptions& o) {
    auto catalog = open_catalog(o);
    std::vector<db::ApiToken> tokens;
    {
        auto session = catalog.session();
        tokens = db::ApiTokensRepo(session.database()).list();
    }
    if (o.json) {
        boost::json::array items;
        for (const auto& token : tokens)
            items.push_back(web::token_json(token));
        print_json(std::cout, boost::json::object{{"items", std::move(items)}});
        return 0;
    }
    Table table({"ID", "NAME", "USER", "SCOPE", "CREATED", "LAST USED", "EXPIRES"});
    for (const auto& token : tokens)
        table.add({std::to_string(token.id), token.name, token.user_name, token.scope,
                   local_time(token.created_at), local_time(token.last_used_at),
                   local_time(token.expires_at)});
    table.print(std::cout);
    return 0;
}

// The token named by its id, or by its name when exactly one has it.
db::ApiToken find_token(const std::vector<db::ApiToken>& tokens, const std::string& given) {
    std::optional<db::ApiToken> found;
    int by_name = 0;
    for (const auto& token : tokens) {
        if (std::to_string(token.id) == given) return token;
        if (token.name == given) {
            found = token;
            ++by_name;
        }
    }
    if (by_name > 1)
        throw db::Conflict("token", std::to_string(by_name) + " tokens are named '" + given +
                                        "': give the id (`bootherd token list`)");
    if (!found) throw db::NotFound("no token with id or name '" + given + "'");
    return *found;
}

int run_revoke(const TokenOptions& o) {
    auto catalog = open_catalog(o);
    std::vector<db::ApiToken> tokens;
    {
        auto session = catalog.session();
        tokens = db::ApiTokensRepo(session.database()).list();
    }
    const auto token = find_token(tokens, o.token);
    if (!confirm("revoke token " + std::to_string(token.id) + " (" + token.name +
                     "): scripts using it stop working",
                 o.yes)) {
        std::cout << "nothing revoked\n";
        return 1;
    }
    {
        auto session = catalog.session();
        db::ApiTokensRepo(session.database()).remove(token.id);
    }
    std::cout << "revoked token " << token.id << " (" << token.name << ")\n";
    return 0;
}

}  // namespace

void add_token_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<TokenOptions>();
    auto* token = app.add_subcommand("token", "API tokens for scripts (Authorization: Bearer)");
    token->require_subcommand(1);

    auto* create = token->add_subcommand("create", "Create a token and print its secret (once)");
    add_data_option(*create, o->data, o->catalog);
    create->add_option("NAME", o->name, "What the token is for")->required();
    create->add_option("--user", o->user, "Web user it acts as")->capture_default_str();
    create->add_option("--scope", o->scope, "admin: everything; read: GET only")
        ->capture_default_str()
        ->check(CLI::IsMember({std::string(db::kTokenScopeAdmin), std::string(db::kTokenScopeRead)}));
    create->add_option("--expires", o->expires, "Lifetime: 90d, 12h, 30m, 2w (default: never)");
    add_json_flag(*create, o->json);
    create->callback([o, &action] { action = [o] { return run_create(*o); }; });

    auto* list = token->add_subcommand("list", "List tokens (never their secrets)");
    add_data_option(*list, o->data, o->catalog);
    add_json_flag(*list, o->json);
    list->callback([o, &action] { action = [o] { return run_list(*o); }; });

    auto* revoke =
        token->add_subcommand("revoke", "Delete a token: requests with it are refused from now on");
    add_data_option(*revoke, o->data, o->catalog);
    revoke->add_option("TOKEN", o->token, "Token id or name")->required();
    add_yes_flag(*revoke, o->yes);
    revoke->callback([o, &action] { action = [o] { return run_revoke(*o); }; });
}

}  // namespace bootherd::cli
