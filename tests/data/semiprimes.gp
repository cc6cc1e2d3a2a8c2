\\ Writes tests/data/semiprimes.txt: gp -q tests/data/semiprimes.gp > tests/data/semiprimes.txt
default(realprecision,200); print("# name digits n p q: balanced semiprimes, p and q = nextprime(floor(sqrt(c)*10^(d/2-1))). Made by: gp -q tests/data/semiprimes.gp > tests/data/semiprimes.txt"); forstep(d=30,100,10, ab=[[7,11],[13,17],[19,23]]; for(i=1,3, p=nextprime(floor(sqrt(ab[i][1])*10^(d/2-1))); q=nextprime(floor(sqrt(ab[i][2])*10^(d/2-1))); n=p*q; print("C",d,"_",i," ",#digits(n)," ",n," ",p," ",q)))
quit
