using Microsoft.Playwright;
using Xunit.Abstractions;

namespace PldrGen.Server.Tests;

/// <summary>
/// The playground page in a real headless browser: Debian's chromium (installed by .ci/run), driven by Playwright
/// with its executable path, so nothing is downloaded.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class PlaygroundTests(SharedServer shared, ITestOutputHelper output)
{
    const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_page_streams_a_greedy_completion_and_shows_its_timings()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run does)");
        string profile = Directory.CreateTempSubdirectory("pldr-chromium-").FullName; // a fresh profile per run
        try { await RunPageAsync(profile); }
        finally { Directory.Delete(profile, recursive: true); }
    }

    async Task RunPageAsync(string profile)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            ViewportSize = new ViewportSize { Width = 1100, Height = 700 },
        });
        var page = browser.Pages.Count > 0 ? browser.Pages[0] : await browser.NewPageAsync();
        await page.GotoAsync(shared.Server.Url + "/");
        await Assertions.Expect(page.Locator("#model")).ToContainTextAsync(SharedServer.Model);

        string prompt = GreedyReference.Prompts[0];
        await page.FillAsync("#prompt", prompt);
        await page.FillAsync("#max_tokens", "24");
        await page.FillAsync("#temperature", "0");
        await page.ClickAsync("#generate");
        await Assertions.Expect(page.Locator("#timings")).ToContainTextAsync("finished: length", new() { Timeout = 30_000 });

        Assert.Equal(prompt + GreedyReference.Text(prompt, 24), await page.InnerTextAsync("#output"));
        string timings = await page.InnerTextAsync("#timings");
        Assert.Matches(@"first token \d+ ms · 24 tokens · [\d.]+ tokens/s", timings);

        string screenshot = Path.Combine(AppContext.BaseDirectory, "playground.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        output.WriteLine($"screenshot: {screenshot}; timings: {timings}");
        await browser.CloseAsync();
    }
}
