namespace Sysprog;

/// <summary>
/// getaddrinfo failed: the message names the host, the service and the EAI_* code
/// (<c>getaddrinfo("nosuchhost", "80") failed: EAI_NONAME (Name or service not known)</c>).
/// </summary>
public sealed class AddressResolutionException : IOException
{
    public AddressResolutionException(string code, string description, string? host, string? service, Errno errno = Errno.None)
        : base($"getaddrinfo({Quote(host)}, {Quote(service)}) failed: {code} ({description}){(errno == Errno.None ? "" : $": {errno.Symbol()} ({errno.Description()})")}")
    {
        Code = code;
        Host = host;
        Service = service;
        Errno = errno;
    }

    /// <summary>The EAI_* name: EAI_NONAME (no such host), EAI_SERVICE (no such service), EAI_AGAIN (try later)...</summary>
    public string Code { get; }

    public string? Host { get; }

    public string? Service { get; }

    /// <summary>errno, when the code is EAI_SYSTEM.</summary>
    public Errno Errno { get; }

    private static string Quote(string? value) => value is null ? "NULL" : $"\"{value}\"";
}
