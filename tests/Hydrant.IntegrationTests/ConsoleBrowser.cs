using Hydrant.Testing;
using Microsoft.Playwright;

namespace Hydrant.IntegrationTests;

/// <summary>
/// Debian's chromium driven by Playwright, headless, for tests of the console as a person uses it;
/// every page it opens records the script errors it raises (<see cref="Errors"/>) and the API's
/// refusals (<see cref="Refusals"/>), which say why a step showed nothing.
/// </summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser) => (_playwright, _browser) = (playwright, browser);

    public List<string> Errors { get; } = [];

    public List<string> Refusals { get; } = [];

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        // Each expectation waits on its condition; under the whole suite on 2 cores the console can
        // take longer than Playwright's 5 s default to show what a person would see.
        Assertions.SetDefaultExpectTimeout(30_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = TestServers.Chromium, Headless = true, Args = ["--no-sandbox"] });
        return new ConsoleBrowser(playwright, browser);
    }

    /// <summary>A new page (its own context: no key or state shared with other pages) at <paramref name="url"/>.</summary>
    public async Task<IPage> OpenAsync(string url, int width = 1280, int height = 800)
    {
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        page.PageError += (_, error) => Errors.Add(error);
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                lock (Refusals)
                {
                    Refusals.Add($"{response.Status} {response.Request.Method} {response.Url}");
                }
            }
        };
        await page.GotoAsync(url);
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
