import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A UDP socket that sends datagrams to one IPv4 address, given as `HOST:PORT` (a name is
/// resolved once with getaddrinfo). The socket is not connected, so a receiver that starts
/// late (or restarts) still gets the packets sent after it is up.
final class UDPSender {
    /// The destination as given ("127.0.0.1:11111").
    let label: String
    private let socketDescriptor: Int32
    private var address: sockaddr_in

    /// Resolves `endpoint` (`HOST:PORT`, or `HOST` for port `defaultPort`) and opens the
    /// socket. Errors: a malformed endpoint, a port outside 1-65535, a host that does not
    /// resolve to an IPv4 address, a socket that cannot be created.
    init(endpoint: String, defaultPort: UInt16) throws {
        let (host, port) = try Self.parse(endpoint, defaultPort: defaultPort)
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results, let found = first.pointee.ai_addr else {
            let reason = status == 0 ? "no IPv4 address" : String(cString: gai_strerror(status))
            throw CLIError("--livelink \(endpoint): cannot resolve host '\(host)': \(reason)")
        }
        defer { freeaddrinfo(results) }
        address = found.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
        socketDescriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard socketDescriptor >= 0 else {
            throw CLIError("--livelink \(endpoint): cannot create a UDP socket: \(String(cString: strerror(errno)))")
        }
        label = "\(host):\(port)"
    }

    deinit { close(socketDescriptor) }

    /// Splits `HOST:PORT` (the port after the last colon; `HOST` alone takes `defaultPort`).
    static func parse(_ endpoint: String, defaultPort: UInt16) throws -> (host: String, port: UInt16) {
        let usage = "--livelink takes HOST:PORT (e.g. 127.0.0.1:11111 or my-pc.local:11111)"
        guard let colon = endpoint.lastIndex(of: ":") else {
            guard !endpoint.isEmpty, !endpoint.contains(where: \.isWhitespace) else { throw CLIError("\(usage), not '\(endpoint)'") }
            return (endpoint, defaultPort)
        }
        let host = String(endpoint[..<colon])
        let portText = endpoint[endpoint.index(after: colon)...]
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw CLIError("\(usage), not '\(endpoint)'") }
        guard !host.contains(":") else { throw CLIError("\(usage), not '\(endpoint)': IPv6 addresses are not supported") }
        guard let port = UInt16(portText), port > 0 else {
            throw CLIError("\(usage): the port must be 1-65535, not '\(portText)'")
        }
        return (host, port)
    }

    /// Sends one datagram. Errors: the system's (no route, message too long, ...).
    func send(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socketDescriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0,
                           socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == bytes.count else {
            throw CLIError("--livelink \(label): sending a packet failed: \(sent < 0 ? String(cString: strerror(errno)) : "\(sent) of \(bytes.count) bytes sent")")
        }
    }
}
