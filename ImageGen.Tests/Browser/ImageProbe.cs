namespace ImageGen.Tests.Browser;

/// <summary>Scripts that look at what an &lt;img&gt; really shows.</summary>
internal static class ImageProbe
{
    /// <summary>
    /// The pixel width of the file the browser chose from the srcset (naturalWidth is scaled by the chosen candidate's
    /// density, so it is read from a plain copy of the same URL).
    /// </summary>
    public const string PixelWidth = "async i => { const copy = new Image(); copy.src = i.currentSrc; await copy.decode(); return copy.naturalWidth; }";
}
