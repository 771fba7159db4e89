import ArgumentParser

/// The root of the command tree. Global options (address, TLS, credential, `--json`) are
/// accepted by every subcommand; see `GlobalOptions`.
struct LLMLabAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmlab-admin",
        abstract: "Administer an LLMLab server: tenants, users, projects, keys, routes, prices, usage, traces, alerts and the audit log.",
        discussion: """
            With no flags the console talks to 127.0.0.1:7443 over TLS, trusting \
            ./.llmlab/tls/ca.pem, as the session saved by `login` or else the operator \
            token in ./.llmlab/operator.token: exactly what `make run` sets up.

            Exit status: 0 success, 1 the server refused or could not be reached, \
            64 the command line is wrong.
            """,
        subcommands: [
            LoginCommand.self,
            LogoutCommand.self,
            WhoAmICommand.self,
            HealthCommand.self,
            TenantCommand.self,
            UserCommand.self,
            ProjectCommand.self,
            KeyCommand.self,
            RouteCommand.self,
            PriceCommand.self,
            APIKeyCommand.self,
            UsageCommand.self,
            CostCommand.self,
            TraceCommand.self,
            AuditCommand.self,
            AlertCommand.self,
            BillingCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions
}
