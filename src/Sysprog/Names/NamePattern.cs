using System.IO.Enumeration;

namespace Sysprog;

/// <summary>
/// A wildcard pattern (* and ?) over names written the way listings write them (<see cref="NameEscaping"/>), read and
/// checked once for a whole listing. "*\xff*" finds a name with the byte 0xff in it: the pattern is read the way a name
/// is and compared with the escaped form.
/// </summary>
public sealed class NamePattern
{
    /// <summary>The pattern every name matches.</summary>
    public static NamePattern Everything { get; } = new("*");

    // The pattern as FileSystemName reads it: runs of '*' made one (the same pattern), a literal '\' doubled (its own
    // escape of * and ?).
    private readonly string _expression;

    // Each character but '*' stands for exactly one character of a name: a shorter name cannot match, whatever the
    // pattern's length, so a huge pattern costs one comparison per name instead of a match over all of it.
    private readonly int _shortestMatch;

    /// <summary>Reads a pattern; refuses one no name could be written as (a bad escape, a lone surrogate).</summary>
    /// <exception cref="ArgumentException">The pattern is not a name written with the listings' escapes.</exception>
    public NamePattern(string pattern) : this(pattern, nameof(pattern))
    {
    }

    /// <summary>The same, naming the caller's parameter (a query's property) when the pattern is refused.</summary>
    internal NamePattern(string pattern, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(pattern, parameterName);
        string canonical = NameEscaping.Canonical(pattern, parameterName);
        var expression = new System.Text.StringBuilder(canonical.Length);
        foreach (char c in canonical)
        {
            if (c == '*')
            {
                if (expression.Length == 0 || expression[^1] != '*')
                {
                    expression.Append('*');
                }
                continue;
            }
            _shortestMatch++;
            expression.Append(c == '\\' ? @"\\" : c.ToString());
        }
        _expression = expression.ToString();
    }

    /// <summary>Whether a name, escaped as listed, matches the pattern.</summary>
    public bool Matches(string escapedName)
    {
        ArgumentNullException.ThrowIfNull(escapedName);
        return escapedName.Length >= _shortestMatch && FileSystemName.MatchesSimpleExpression(_expression, escapedName, ignoreCase: false);
    }
}
