from attune_cli.main import main

main()
