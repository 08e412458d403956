using System.Globalization;
using System.Text;
using System.Xml;

namespace Sysprog;

/// <summary>
/// The one SVG writer the pictures share. XmlWriter does the escaping, so the output is well-formed whatever a path
/// holds; text from the system is passed through <see cref="NameEscaping"/> first, as every view does.
/// </summary>
internal sealed class SvgCanvas
{
    private readonly StringBuilder _text = new();
    private readonly XmlWriter _writer;
    private const string Namespace = "http://www.w3.org/2000/svg";

    public SvgCanvas(double width, double height, string title)
    {
        _writer = XmlWriter.Create(_text, new XmlWriterSettings { Indent = true, OmitXmlDeclaration = false, Encoding = Encoding.UTF8 });
        _writer.WriteStartElement("svg", Namespace);
        Attribute("width", width);
        Attribute("height", height);
        _writer.WriteAttributeString("viewBox", $"0 0 {Number(width)} {Number(height)}");
        _writer.WriteAttributeString("font-family", "monospace");
        _writer.WriteElementString("title", Namespace, NameEscaping.Escape(title));
        Rect(0, 0, width, height, "#ffffff");
    }

    public static string Number(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Opens a group carrying what a test or a slide tool may want to read back (data-* attributes).</summary>
    public void BeginGroup(string cssClass, params (string Name, string Value)[] data)
    {
        _writer.WriteStartElement("g", Namespace);
        _writer.WriteAttributeString("class", cssClass);
        foreach ((string name, string value) in data)
        {
            _writer.WriteAttributeString(name, value);
        }
    }

    public void EndGroup() => _writer.WriteEndElement();

    /// <summary>A tooltip for the enclosing group: slide viewers show it on hover.</summary>
    public void Tooltip(string text) => _writer.WriteElementString("title", Namespace, NameEscaping.Escape(text));

    public void Rect(double x, double y, double width, double height, string fill, string? stroke = null, bool dashed = false)
    {
        _writer.WriteStartElement("rect", Namespace);
        Attribute("x", x);
        Attribute("y", y);
        Attribute("width", width);
        Attribute("height", height);
        _writer.WriteAttributeString("fill", fill);
        if (stroke is not null)
        {
            _writer.WriteAttributeString("stroke", stroke);
            if (dashed)
            {
                _writer.WriteAttributeString("stroke-dasharray", "4 2");
            }
        }
        _writer.WriteEndElement();
    }

    public void Line(double x1, double y1, double x2, double y2, string stroke, bool dashed = false)
    {
        _writer.WriteStartElement("line", Namespace);
        Attribute("x1", x1);
        Attribute("y1", y1);
        Attribute("x2", x2);
        Attribute("y2", y2);
        _writer.WriteAttributeString("stroke", stroke);
        if (dashed)
        {
            _writer.WriteAttributeString("stroke-dasharray", "3 3");
        }
        _writer.WriteEndElement();
    }

    public void Path(string data, string stroke, string fill = "none")
    {
        _writer.WriteStartElement("path", Namespace);
        _writer.WriteAttributeString("d", data);
        _writer.WriteAttributeString("stroke", stroke);
        _writer.WriteAttributeString("fill", fill);
        _writer.WriteEndElement();
    }

    public void Text(double x, double y, string text, double size = 11, string anchor = "start", string fill = "#000000")
    {
        _writer.WriteStartElement("text", Namespace);
        Attribute("x", x);
        Attribute("y", y);
        Attribute("font-size", size);
        if (anchor != "start")
        {
            _writer.WriteAttributeString("text-anchor", anchor);
        }
        _writer.WriteAttributeString("fill", fill);
        _writer.WriteString(NameEscaping.Escape(text));
        _writer.WriteEndElement();
    }

    public string Finish()
    {
        _writer.WriteEndElement();
        _writer.Flush();
        _writer.Dispose();
        // The StringBuilder target makes XmlWriter declare utf-16; the file is written as UTF-8.
        return _text.ToString().Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"", StringComparison.Ordinal) + "\n";
    }

    private void Attribute(string name, double value) => _writer.WriteAttributeString(name, Number(value));
}

/// <summary>ANSI colours for the terminal pictures; used only when the caller says the output renders them.</summary>
internal static class Ansi
{
    public const string Reset = "\e[0m";

    public static string Paint(string text, string? sgr, bool color) => color && sgr is not null && text.Length > 0 ? $"\e[{sgr}m{text}{Reset}" : text;
}

/// <summary>Text helpers the pictures share.</summary>
internal static class PictureText
{
    /// <summary>Cuts to <paramref name="width"/> characters, marking the cut with '~' (text from the system is escaped first).</summary>
    public static string Fit(string text, int width) =>
        width <= 0 ? "" : text.Length <= width ? text : width == 1 ? "~" : string.Concat(text.AsSpan(0, width - 1), "~");

    /// <summary>"4 KiB", "1.5 MiB", "21.4 TiB": one decimal at most, so a column stays narrow.</summary>
    public static string Size(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }

    public static void ValidateWidth(int width, string paramName)
    {
        if (width is < MinimumWidth or > MaximumWidth)
        {
            throw new ArgumentOutOfRangeException(paramName, width, $"A picture is {MinimumWidth} to {MaximumWidth} columns wide.");
        }
    }

    public const int MinimumWidth = AddressSpacePicture.MinimumWidth, MaximumWidth = AddressSpacePicture.MaximumWidth;
}
