/// The `server_error` fault: queries that fail on the server's side, as a backend behind KIS's gateway can. Orders
/// are left alone: an order whose answer is lost is `order_timeout` and `order_delay`, which do place the order.
extension ExchangeState {
    /// Takes one of the queries (GET) armed to fail, if any are left, before the request is authorised or counted.
    mutating func takeServerError(_ request: RESTRequest) -> RESTReply? {
        guard request.method == "GET", self.pendingServerErrors > 0 else { return nil }
        self.pendingServerErrors -= 1
        return .serverError
    }
}

extension RESTReply {
    /// HTTP 500 with a body that is not a KIS envelope, as a proxy in front of a failed backend answers.
    static let serverError = RESTReply(
        status: 500,
        body: Array("<html><head><title>500 Internal Server Error</title></head></html>".utf8)
    )
}
