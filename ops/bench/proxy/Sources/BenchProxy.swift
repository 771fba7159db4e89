import ArgumentParser

/// `llmlab-bench-proxy`: the data-plane (proxy) benchmark. `fake-upstream` is a lean fake
/// OpenAI Chat Completions server; `run` is the load generator that measures the latency the
/// proxy adds (proxy − direct, same load generator, back to back) and its maximum
/// non-streaming throughput. `ops/bench/proxy.sh` starts both around a throw-away server;
/// `make bench-proxy` runs that script. Figures are measured, not asserted.
@main
struct BenchProxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmlab-bench-proxy",
        abstract: "Proxy benchmark: a fast fake OpenAI upstream and a closed-loop HTTP/1.1 load generator.",
        subcommands: [FakeUpstreamCommand.self, RunCommand.self])
}

/// A failure the benchmark reports as a plain message.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
