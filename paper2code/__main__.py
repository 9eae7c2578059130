from paper2code.cli import main

main()
