\\ Writes tests/data/ecm.txt: gp -q tests/data/ecm.gp > tests/data/ecm.txt
default(realprecision,200); print("# name digits n p q: p = nextprime(floor(sqrt(3+k)*10^(k-1))) of k digits, q = nextprime(floor(sqrt(41)*10^69)). Made by: gp -q tests/data/ecm.gp > tests/data/ecm.txt"); q=nextprime(floor(sqrt(41)*10^69)); forstep(k=15,35,5, p=nextprime(floor(sqrt(3+k)*10^(k-1))); n=p*q; print("P",k,"xP70 ",#digits(n)," ",n," ",p," ",q))
quit
