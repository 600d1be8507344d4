# Reading %...% strings out of a stored command line with ato.parser
import sys

from ato.parser import parse_backtick_string

command = ' '.join(sys.argv[1:]) or 'train.py name=%my first run% note=%100%% sure% lr=0.1'
position = command.find('%')
while position != -1:
    text, end = parse_backtick_string(command, position)
    print(repr(text), end)
    position = command.find('%', end)
