import Synchronization

/// What a handler learned about its request that the metrics middleware, which runs
/// outside it, needs: the provider and model. A reference so the handler can fill it in
/// through the context it received by value.
public final class RequestObservation: Sendable {
    private struct State {
        var provider = ""
        var model = ""
    }

    private let state = Mutex(State())

    init() {}

    func record(provider: String, model: String) {
        state.withLock {
            $0.provider = provider
            $0.model = model
        }
    }

    var labels: (provider: String, model: String) {
        state.withLock { ($0.provider, $0.model) }
    }
}
