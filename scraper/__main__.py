from scraper.entry import main

main()
